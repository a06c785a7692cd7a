import { describe, expect, it } from 'vitest'
import { toArrival } from './arrival'

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

