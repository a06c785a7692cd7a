import { describe, expect, it } from 'vitest'
import { medianGap, toArrival } from './arrival'

describe('toArrival', () => {
  it('measures gaps between frames and marks those over 2 s as stalls', () => {
    const a = toArrival([150, 180, 2400, 2410, 4500])
    expect(a.points.map((p) => p.gap_ms)).toEqual([150, 30, 2220, 10, 2090])
    expect(a.stalls.map((p) => p.seq)).toEqual([3, 5])
    expect(a.max_gap_ms).toBe(2220)
    expect([a.first_ms, a.last_ms]).toEqual([150, 4500])
  })

  it('never counts the wait for the first frame as a stall', () => {
    const a = toArrival([5000, 5010])
    expect(a.stalls).toEqual([])
    expect(a.max_gap_ms).toBe(10)
  })

  it('handles a stream without frames', () => {
    expect(toArrival(null)).toEqual({ points: [], stalls: [], max_gap_ms: null, first_ms: null, last_ms: null })
  })
})

describe('medianGap', () => {
  it('is the middle gap between frames, never the wait for the first', () => {
    expect(medianGap(toArrival([900, 910, 940, 950]))).toBe(10)
    expect(medianGap(toArrival([900, 910, 940]))).toBe(20)
    expect(medianGap(toArrival([5000, 5010, 5030, 9000, 9005]))).toBe(15)
  })

  it('is null without a gap to measure', () => {
    expect(medianGap(toArrival([120]))).toBeNull()
    expect(medianGap(toArrival(null))).toBeNull()
  })
})
