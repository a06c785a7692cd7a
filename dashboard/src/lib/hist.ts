// The rollups' latency histograms (docs/telemetry-contract.md): HIST_BUCKETS fixed buckets with
// upper bounds HIST_GROWTH^i ms and an open last one. Charts sum them per bucket in SQL and
// read quantiles here, so one query gives both the chart and the window's totals.

/** The layout, as telemetry.hist_buckets() and telemetry.hist_growth() (tests/dashboard/hist-layout.test.ts). */
export const HIST_BUCKETS = 67
export const HIST_GROWTH = 1.25

export const HIST_BOUNDS: readonly number[] = Array.from({ length: HIST_BUCKETS }, (_, i) => (i === HIST_BUCKETS - 1 ? Infinity : HIST_GROWTH ** i))

/** Element-wise sum, as telemetry.hist_add. */
export function histAdd(a: readonly number[] | null, b: readonly number[] | null): number[] | null {
  if (!a) return b ? [...b] : null
  if (!b) return [...a]
  const out = new Array<number>(Math.max(a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) + (b[i] ?? 0)
  return out
}

/**
 * The q-quantile (0..1), linearly interpolated inside its bucket; the lower bound in the open
 * last bucket; null for an empty histogram. Same arithmetic as telemetry.hist_quantile.
 */
export function histQuantile(hist: readonly number[] | null, q: number): number | null {
  if (!hist) return null
  let total = 0
  for (const c of hist) total += c ?? 0
  if (total === 0) return null
  const target = Math.max(0, Math.min(1, q)) * total
  let cum = 0
  for (let i = 0; i < hist.length; i++) {
    const c = hist[i] ?? 0
    if (c > 0 && cum + c >= target) {
      const lo = i === 0 ? 0 : HIST_BOUNDS[i - 1]!
      const hi = HIST_BOUNDS[i] ?? Infinity
      if (hi === Infinity) return lo
      return lo + ((hi - lo) * Math.max(0, target - cum)) / c
    }
    cum += c
  }
  return null
}
