// The time window every page reads, as it lives in the URL:
//   ?range=1h                                  a preset ending now
//   ?range=custom&from=2026-11-25T10:00&to=…   fixed instants (UTC; a zone suffix is honoured)

export const PRESETS = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '6h': 6 * 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
  '30d': 30 * 24 * 60 * 60_000,
} as const

export type Preset = keyof typeof PRESETS

export const PRESET_LABELS: Record<Preset, string> = {
  '15m': '15 min', '1h': '1 hour', '6h': '6 hours', '24h': '24 hours', '7d': '7 days', '30d': '30 days',
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Bucket sizes a chart may use; all divide a day, so buckets line up with UTC days. */
export const STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR, 6 * HOUR, DAY] as const

export interface TimeWindow {
  from: Date
  to: Date
}

export interface Range extends TimeWindow {
  preset: Preset | 'custom'
  /** Chart bucket, ms. */
  step_ms: number
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

export interface RangeOptions {
  fallback: Preset
  /** Longest window accepted, days. */
  maxDays: number
  /** Most chart points wanted; the step is the smallest of STEPS that keeps under it. */
  maxPoints?: number
  /** Smallest step allowed (spend charts make no sense per minute). */
  minStepMs?: number
}

export function isPreset(value: string | null): value is Preset {
  return value !== null && Object.hasOwn(PRESETS, value)
}

/** The smallest step of STEPS giving at most `maxPoints` buckets over `spanMs`. */
export function stepFor(spanMs: number, maxPoints = 200, minStepMs = MINUTE): number {
  for (const step of STEPS) if (step >= minStepMs && spanMs / step <= maxPoints) return step
  return DAY
}

/**
 * An instant typed by an operator or taken from a `datetime-local` input: a zone suffix is
 * honoured, a bare local time is UTC (the dashboard shows every time in UTC).
 */
export function parseInstant(value: string): Date | null {
  const text = value.trim()
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(text)) return null
  const iso = text.replace(' ', 'T')
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(iso)
  const withTime = iso.includes('T') ? iso : `${iso}T00:00`
  const ms = Date.parse(zoned ? withTime : `${withTime}Z`)
  return Number.isFinite(ms) ? new Date(ms) : null
}

export function parseRange(params: URLSearchParams, now: Date, options: RangeOptions): Parsed<Range> {
  const raw = params.get('range')
  const maxPoints = options.maxPoints ?? 200
  const maxMs = options.maxDays * DAY
  const make = (preset: Range['preset'], from: Date, to: Date): Range => ({
    preset, from, to, step_ms: stepFor(to.getTime() - from.getTime(), maxPoints, options.minStepMs),
  })

  if (raw === null || raw === '') return { ok: true, value: make(options.fallback, new Date(now.getTime() - PRESETS[options.fallback]), now) }
  if (isPreset(raw)) {
    if (PRESETS[raw] > maxMs) return { ok: false, message: `range ${raw} is longer than this page allows (${options.maxDays} days)` }
    return { ok: true, value: make(raw, new Date(now.getTime() - PRESETS[raw]), now) }
  }
  if (raw !== 'custom') {
    return { ok: false, message: `range must be one of ${Object.keys(PRESETS).join(', ')} or custom, got "${raw}"` }
  }
  const fromText = params.get('from') ?? ''
  const toText = params.get('to') ?? ''
  const from = parseInstant(fromText)
  const to = toText === '' ? now : parseInstant(toText)
  if (!from) return { ok: false, message: `from must be a date and time like 2026-11-25T14:00 (UTC), got "${fromText}"` }
  if (!to) return { ok: false, message: `to must be a date and time like 2026-11-25T15:00 (UTC), got "${toText}"` }
  if (from.getTime() >= to.getTime()) return { ok: false, message: 'from must be before to' }
  if (to.getTime() - from.getTime() > maxMs) return { ok: false, message: `a custom range may span at most ${options.maxDays} days` }
  return { ok: true, value: make('custom', from, to) }
}

/** The window of the same length just before: what KPI deltas compare against. */
export function previousWindow(window: TimeWindow): TimeWindow {
  const length = window.to.getTime() - window.from.getTime()
  return { from: new Date(window.from.getTime() - length), to: window.from }
}

/** Query parameters that reproduce the range. */
export function rangeParams(range: Range): Record<string, string> {
  if (range.preset !== 'custom') return { range: range.preset }
  return { range: 'custom', from: toInputValue(range.from), to: toInputValue(range.to) }
}

/** `2026-11-25T14:03` (UTC), what a datetime-local input shows. */
export function toInputValue(date: Date): string {
  return date.toISOString().slice(0, 16)
}

export function describeRange(range: Range): string {
  if (range.preset !== 'custom') return `last ${PRESET_LABELS[range.preset]}`
  const f = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ')
  return `${f(range.from)} – ${f(range.to)} UTC`
}

export function describeStep(stepMs: number): string {
  if (stepMs >= DAY) return `${stepMs / DAY} day`
  if (stepMs >= HOUR) return `${stepMs / HOUR} h`
  return `${stepMs / MINUTE} min`
}
