import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chunkText } from './chunk.ts'

const squash = (s: string) => s.replace(/\s+/g, '')

describe('chunkText', () => {
  it('keeps a short text whole', () => {
    expect(chunkText('  one short text.  ', 100)).toEqual(['one short text.'])
  })

  it('packs whole paragraphs while they fit', () => {
    const p = (c: string) => `${c.repeat(30)}.`
    const text = [p('a'), p('b'), p('c'), p('d')].join('\n\n')
    // 31 chars each: two paragraphs and their blank line fit in 70, three do not.
    expect(chunkText(text, 70)).toEqual([`${p('a')}\n\n${p('b')}`, `${p('c')}\n\n${p('d')}`])
  })

  it('cuts a long paragraph between sentences, then words, then characters', () => {
    expect(chunkText('First one here. Second one here. Third.', 20)).toEqual(['First one here.', 'Second one here.', 'Third.'])
    expect(chunkText('alpha beta gamma delta epsilon', 12)).toEqual(['alpha beta', 'gamma delta', 'epsilon'])
    expect(chunkText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)])
  })

  it('cuts after CJK full stops', () => {
    expect(chunkText('这是第一句。这是第二句。这是第三句。', 13)).toEqual(['这是第一句。这是第二句。', '这是第三句。'])
  })

  it('never splits a surrogate pair', () => {
    const chunks = chunkText('😀'.repeat(10), 5)
    for (const c of chunks) expect(c).toBe([...c].join(''))
    expect(chunks.join('')).toBe('😀'.repeat(10))
    expect(chunks.every((c) => !/[\ud800-\udbff]$/.test(c))).toBe(true)
  })

  it('loses nothing but whitespace, stays within the size, and yields no empty chunk', () => {
    const text = fc.array(fc.oneof(
      fc.constantFrom(' ', '\n', '\n\n', '. ', '! ', '。', '\t'),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.constantFrom('😀', 'é', 'word'),
    ), { maxLength: 60 }).map((parts) => parts.join(''))
    fc.assert(fc.property(text, fc.integer({ min: 2, max: 80 }), (t, max) => {
      const chunks = chunkText(t, max)
      expect(chunks.every((c) => c.length > 0 && c.length <= max && c === c.trim())).toBe(true)
      expect(squash(chunks.join(''))).toBe(squash(t))
    }), { numRuns: 500 })
  })
})
