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

/**
 * A number as an attribute shows it: integers whole; fractions rounded off the binary float
 * noise a sum of timings leaves (`197.34251300000005`), to a thousandth (a microsecond, for
 * milliseconds), or to 3 significant digits below 1, so a per-token price keeps its digits.
 */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n)) return String(n)
  return String(Math.abs(n) >= 1 ? Number(n.toFixed(3)) : Number(n.toPrecision(3)))
}

/** An attribute value on one line: strings bare, numbers by `formatNumber`, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return formatNumber(value)
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(formatNumber(v)) : v))
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** A chart bucket's label, as precise as its width: `14:05`, `Nov 25 14:00`, `Nov 25` (UTC). */
export function formatBucket(iso: string, stepMs: number, spanMs: number): string {
  const d = new Date(iso)
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`
  if (stepMs >= 86_400_000) return day
  if (spanMs > 86_400_000) return `${day} ${formatMinute(iso)}`
  return formatMinute(iso)
}

const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 3 })

/** `950`, `12.3K`, `443K`, `4.12M`. */
export function formatCompact(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : compactFormat.format(n)
}

/** Dollars with cents, or more digits for the fractions of a cent a single request costs. */
export function formatUsd(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–'
  if (n !== 0 && Math.abs(n) < 0.01) return `$${n.toPrecision(2)}`
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}

/** A ratio (0..1) as a percentage: `0.4%`, `12.5%`. */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–'
  return `${(100 * ratio).toFixed(digits)}%`
}

/** Milliseconds as what a person reads: `850 ms`, `2.4 s`, `3 min 5 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${formatMs(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

export type Trend = 'up' | 'down' | 'flat' | 'none'

/** Relative change from `before` to `now`: `+12%`, `−3.1%`; `new` when there was nothing before. */
export function formatChange(now: number | null, before: number | null): { text: string; trend: Trend } {
  if (now === null || before === null) return { text: '–', trend: 'none' }
  if (before === 0) return now === 0 ? { text: '±0%', trend: 'flat' } : { text: 'new', trend: 'up' }
  const change = (now - before) / Math.abs(before)
  if (Math.abs(change) < 0.005) return { text: '±0%', trend: 'flat' }
  const pct = Math.abs(change) >= 10 ? `${Math.round(Math.abs(change) * 100)}` : (Math.abs(change) * 100).toFixed(1).replace(/\.0$/, '')
  return { text: `${change > 0 ? '+' : '−'}${pct}%`, trend: change > 0 ? 'up' : 'down' }
}
