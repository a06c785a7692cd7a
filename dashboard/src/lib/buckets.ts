import type { TimeWindow } from './range.ts'

/** Bucket start of each chart point from `from` to `to`, empty buckets included (aligned to the epoch, as date_bin). */
export function bucketTimes(window: TimeWindow, stepMs: number): Date[] {
  const out: Date[] = []
  for (let t = Math.floor(window.from.getTime() / stepMs) * stepMs; t < window.to.getTime(); t += stepMs) out.push(new Date(t))
  return out
}
