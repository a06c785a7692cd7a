// The rollups' latency histograms (docs/telemetry-contract.md): 67 fixed buckets with upper
// bounds 1.25^i ms for i = 0..65 and an open last one. Charts sum them per bucket in SQL and
// read quantiles here, so one query gives both the chart and the window's totals.

export const HIST_BOUNDS: readonly number[] = Array.from({ length: 67 }, (_, i) => (i === 66 ? Infinity : 1.25 ** i))

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
