/** A gap between two frames longer than this is a stall (the telemetry writer counts the same). */
export const STALL_MS = 2000

export interface FramePoint {
  /** 1-based, the frame's `seq`. */
  seq: number
  /** Arrival, ms from the request's start. */
  t_ms: number
  /** Since the previous frame (the first: since the request started, i.e. its TTFB). */
  gap_ms: number
  stall: boolean
}

export interface Arrival {
  points: FramePoint[]
  stalls: FramePoint[]
  /** Largest gap between two frames (not counting the wait for the first). */
  max_gap_ms: number | null
  first_ms: number | null
  last_ms: number | null
}

/** The token-arrival story of one stream from its frame offsets. */
export function toArrival(offsets: readonly number[] | null | undefined, stallMs = STALL_MS): Arrival {
  const points: FramePoint[] = []
  let maxGap: number | null = null
  let previous = 0
  for (const [i, t] of (offsets ?? []).entries()) {
    const gap = t - previous
    const between = i > 0
    if (between) maxGap = Math.max(maxGap ?? 0, gap)
    points.push({ seq: i + 1, t_ms: t, gap_ms: gap, stall: between && gap > stallMs })
    previous = t
  }
  return {
    points,
    stalls: points.filter((p) => p.stall),
    max_gap_ms: maxGap,
    first_ms: points[0]?.t_ms ?? null,
    last_ms: points.at(-1)?.t_ms ?? null,
  }
}

/** One stream's curve on a chart of several. */
export interface ArrivalSeries {
  label: string
  arrival: Arrival
}
