// Times are shown in UTC: the page is rendered on the server and in the browser,
// and both must print the same text whatever their time zones.

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** `14:03:27` (UTC). */
export function formatClock(iso: string): string {
  const d = new Date(iso)
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

/** `14:03:27.412` (UTC). */
export function formatClockMs(iso: string): string {
  return `${formatClock(iso)}.${pad(new Date(iso).getUTCMilliseconds(), 3)}`
}

/** `14:03` (UTC). */
export function formatMinute(iso: string): string {
  const d = new Date(iso)
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
}

/** `2026-11-25 14:03:27 UTC`. */
export function formatDateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${formatClock(iso)} UTC`
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

/** Milliseconds with a precision that suits their size: `0.4`, `12.3`, `1,204`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
  return ms < 100 ? oneDecimal.format(ms) : integer.format(ms)
}

/** A signed offset: `+312 ms`, `−4.2 ms`. */
export function formatOffset(ms: number): string {
  return `${ms < 0 ? '−' : '+'}${formatMs(Math.abs(ms))} ms`
}

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : integer.format(n)
}

/** The first 8 characters, enough to tell ids apart on one screen. */
export function shortId(id: string | null): string {
  return id ? id.slice(0, 8) : '–'
}

/** An attribute value on one line: strings bare, everything else as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}
