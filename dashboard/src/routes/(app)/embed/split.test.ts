import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { splitForEmbedding } from './split'

describe('splitForEmbedding', () => {
  it('packs paragraphs up to the limit and keeps their order', () => {
    expect(splitForEmbedding('a\n\nb\n\nc', 4)).toEqual(['a\n\nb', 'c'])
    expect(splitForEmbedding('one\n\n\n\ntwo', 100)).toEqual(['one\n\ntwo'])
    expect(splitForEmbedding('  \n\n \n')).toEqual([])
  })

  it('cuts a long paragraph at whitespace, else hard, never inside a surrogate pair', () => {
    expect(splitForEmbedding('aaaa bbbb cccc', 10)).toEqual(['aaaa bbbb', 'cccc'])
    expect(splitForEmbedding('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)])
    const emoji = '😀'.repeat(6) // 12 UTF-16 units
    const pieces = splitForEmbedding(emoji, 5)
    expect(pieces.join('')).toBe(emoji)
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(5)
  })

  it('loses nothing but whitespace, and respects the limit', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', 'é', '😀'), maxLength: 400 }), fc.integer({ min: 2, max: 50 }), (text, max) => {
      const pieces = splitForEmbedding(text, max)
      const squash = (s: string) => s.replace(/\s+/g, '')
      return pieces.every((p) => p.length <= max && p.trim() === p && p !== '') && squash(pieces.join('')) === squash(text)
    }))
  })
})
