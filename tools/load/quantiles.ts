import type { Histogram } from './histogram.ts'

export interface Quantiles { count: number; min: number; p50: number; p95: number; p99: number; max: number; mean: number }

export const toQuantiles = (h: Histogram): Quantiles => ({
  count: h.count, min: h.min, p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99), max: h.max, mean: h.mean,
})
