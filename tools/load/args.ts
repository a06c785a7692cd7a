/** "60s", "2m", "500ms", "1h" or a bare number of seconds, as milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text)
  if (!m) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 60s, 2m)`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']
  return Number(m[1]) * unit
}

export function parseCount(name: string, text: string, min = 0): number {
  const v = Number(text)
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`)
  return v
}

/** A run id: sortable by time, unique enough to filter one run on the dashboard. */
export function newRunId(prefix = 'load'): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')
  return `${prefix}-${stamp}-${Math.random().toString(36).slice(2, 6)}`
}
