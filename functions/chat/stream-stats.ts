/** A gap between two delta frames longer than this counts as a stall. */
export const STALL_THRESHOLD_MS = 2_000

export interface StreamStats {
  stalls: number
  maxGapMs: number
}

/** Stalls and the longest gap between consecutive delta frames (offsets in ms, ascending). */
export function toStreamStats(offsetsMs: readonly number[]): StreamStats {
  let stalls = 0
  let maxGapMs = 0
  for (let i = 1; i < offsetsMs.length; i++) {
    const gap = offsetsMs[i] - offsetsMs[i - 1]
    if (gap > STALL_THRESHOLD_MS) stalls++
    if (gap > maxGapMs) maxGapMs = gap
  }
  return { stalls, maxGapMs: Math.round(maxGapMs * 10) / 10 }
}
