import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDuration } from '../../tools/load/args.ts'
import { bucketOf, createHistogram, valueOf } from '../../tools/load/histogram.ts'
import { buildPrompt } from '../../tools/load/prompt.ts'
import { createSequenceTracker } from '../../tools/load/sequence.ts'
import { countTokens } from '../../functions/providers/tokens.ts'

describe('sequence tracker', () => {
  it('counts skipped seqs as lost and seqs at or below the highest as repeated', () => {
    const t = createSequenceTracker()
    expect([1, 2, 4, 4, 5, 3, 8].map((s) => t.accept(s))).toEqual(['ok', 'ok', 'gap', 'repeat', 'ok', 'repeat', 'gap'])
    expect({ frames: t.frames, lost: t.lost, repeated: t.repeated, last: t.last }).toEqual({ frames: 5, lost: 3, repeated: 2, last: 8 })
  })

  it('counts a missing tail when the total is known, and starts over on restart', () => {
    const t = createSequenceTracker()
    t.accept(1)
    t.accept(2)
    t.end(5)
    expect(t.lost).toBe(3)
    t.restart()
    expect(t.accept(1)).toBe('ok')
    expect(t.repeated).toBe(0)
  })

  it('on any delivery order, frames + lost = highest seq and every delivery is a frame or a repeat', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 100 }), (seqs) => {
      const t = createSequenceTracker()
      for (const s of seqs) t.accept(s)
      expect(t.frames + t.lost).toBe(t.last)
      expect(t.frames + t.repeated).toBe(seqs.length)
    }))
  })
})

describe('histogram', () => {
  it('reports quantiles within 0.4% of the exact ones', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 600_000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, q) => {
      const h = createHistogram()
      for (const v of values) h.record(v)
      const sorted = [...values].sort((a, b) => a - b)
      const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]
      // Microsecond rounding below 0.5 ms, relative error above.
      expect(Math.abs(h.quantile(q) - exact)).toBeLessThanOrEqual(Math.max(0.001, exact * 0.004))
    }))
  })

  it('keeps count, min, max and mean exact, and merges', () => {
    const a = createHistogram()
    const b = createHistogram()
    for (const v of [100, 101, 250]) a.record(v)
    for (const v of [5, 2_000]) b.record(v)
    a.merge(b)
    expect({ count: a.count, min: a.min, max: a.max, mean: a.mean }).toEqual({ count: 5, min: 5, max: 2_000, mean: 491.2 })
    expect(createHistogram().quantile(0.5)).toBeNaN()
  })

  it('maps every bucket back into itself', () => {
    for (const us of [0, 1, 511, 512, 513, 1_000, 100_000, 128_000, 2 ** 31 - 1]) {
      expect(bucketOf(Math.round(valueOf(bucketOf(us))))).toBe(bucketOf(us))
    }
  })
})

describe('arguments', () => {
  it('reads durations', () => {
    expect([parseDuration('60s'), parseDuration('2m'), parseDuration('500ms'), parseDuration('10'), parseDuration('1.5s')]).toEqual([60_000, 120_000, 500, 10_000, 1_500])
    expect(() => parseDuration('ten')).toThrow(/not a duration/)
  })
})

describe('prompt', () => {
  it('builds a prompt of about the asked token count', () => {
    for (const n of [50, 4_000]) {
      const tokens = countTokens(buildPrompt(n))
      expect(tokens).toBeGreaterThanOrEqual(n)
      expect(tokens).toBeLessThanOrEqual(n + 3)
    }
  })
})
