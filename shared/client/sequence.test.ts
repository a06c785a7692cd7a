import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { toSeqVerdict } from './sequence.ts'

describe('toSeqVerdict', () => {
  it('accepts the next seq only; earlier ones are duplicates, later ones a gap', () => {
    expect(toSeqVerdict(0, 1)).toBe('next')
    expect(toSeqVerdict(41, 42)).toBe('next')
    expect(toSeqVerdict(42, 42)).toBe('duplicate')
    expect(toSeqVerdict(42, 1)).toBe('duplicate')
    expect(toSeqVerdict(42, 44)).toBe('gap')
    expect(toSeqVerdict(0, Number.NaN)).toBe('gap')
  })

  it('rebuilds the text exactly from any replays, in any amount, of a prefix-ordered delivery', () => {
    // Deliveries as a resuming server makes them: each connection replays from some earlier
    // point (≤ what the client holds) and stops anywhere.
    fc.assert(fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 30 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }), (tokens, replays) => {
      let last = 0
      let text = ''
      const deliver = (from: number, to: number) => {
        for (let seq = from; seq <= to; seq++) {
          const v = toSeqVerdict(last, seq)
          if (v === 'gap') return
          if (v === 'next') { last = seq; text += tokens[seq - 1] }
        }
      }
      for (const [back, len] of replays) {
        const from = Math.max(1, last + 1 - (back % (last + 1)))
        deliver(from, Math.min(tokens.length, from + (len % (tokens.length + 1))))
      }
      deliver(1, tokens.length)
      return text === tokens.join('') && last === tokens.length
    }))
  })
})
