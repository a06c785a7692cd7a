// A fixed-size latency histogram: thousands of streams × 10 frames/s for minutes is millions of
// samples, so the load tool keeps counts per bucket instead of the samples themselves.
//
// Log-linear buckets (the HdrHistogram layout): exact microseconds below 512 µs, then 256 buckets
// per power of two, so any reported percentile is within 0.4% of the true value.

const SUB_BITS = 8
const SUB = 1 << SUB_BITS
const LINEAR = SUB * 2
const MAX_US = 2 ** 31 - 1 // ~35 minutes; longer samples are clamped (and still counted)
const BUCKETS = (31 - SUB_BITS) * SUB + SUB * 2

export interface Histogram {
  /** Records one sample in milliseconds (negative values count as 0). */
  record(ms: number): void
  /** Adds every sample of another histogram. */
  merge(other: Histogram): void
  /** The value at quantile q in [0, 1] (the sample of rank ceil(q·n)), in ms; NaN when empty. */
  quantile(q: number): number
  readonly count: number
  readonly min: number
  readonly max: number
  readonly mean: number
  /** Internal counts, for merge. */
  readonly counts: Float64Array
  readonly sum: number
}

export function bucketOf(us: number): number {
  if (us < LINEAR) return us
  const e = 31 - Math.clz32(us)
  const shift = e - SUB_BITS
  return shift * SUB + (us >>> shift)
}

/** The value a bucket stands for: its midpoint, or the exact value in the linear range. */
export function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket
  const shift = Math.floor(bucket / SUB) - 1
  const mantissa = bucket - shift * SUB
  // Multiplication, not <<: the top buckets pass 2^31.
  return mantissa * 2 ** shift + (2 ** shift) / 2
}

export function createHistogram(): Histogram {
  const counts = new Float64Array(BUCKETS)
  let count = 0
  let sum = 0
  let min = Infinity
  let max = -Infinity
  return {
    record(ms) {
      const v = ms > 0 ? ms : 0
      const us = Math.min(MAX_US, Math.round(v * 1000))
      counts[bucketOf(us)]++
      count++
      sum += v
      if (v < min) min = v
      if (v > max) max = v
    },
    merge(other) {
      for (let i = 0; i < BUCKETS; i++) counts[i] += other.counts[i]
      count += other.count
      sum += other.sum
      if (other.count) {
        min = Math.min(min, other.min)
        max = Math.max(max, other.max)
      }
    },
    quantile(q) {
      if (count === 0) return NaN
      const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * count))
      let seen = 0
      for (let i = 0; i < BUCKETS; i++) {
        seen += counts[i]
        // The extremes are known exactly; a bucket midpoint must not report past them.
        if (seen >= rank) return Math.min(max, Math.max(min, valueOf(i) / 1000))
      }
      return max
    },
    get count() { return count },
    get min() { return count ? min : NaN },
    get max() { return count ? max : NaN },
    get mean() { return count ? sum / count : NaN },
    get sum() { return sum },
    counts,
  }
}
