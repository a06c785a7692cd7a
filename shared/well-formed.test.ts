import { describe, expect, it } from 'vitest'
import { clip, isWellFormed, isWellFormedByPattern, jsonProblem, textProblem } from './well-formed.ts'

const nested = (depth: number, leaf: unknown = 1, key = 'a'): unknown => {
  let v = leaf
  for (let i = 0; i < depth; i++) v = { [key]: v }
  return v
}

describe('isWellFormed', () => {
  it('refuses exactly the lone surrogates, natively and by the pattern', () => {
    const good = ['', 'plain', 'naïve café', '日本語', '🙂', 'a🙂b👍🏽c', '\uffff', '\u0000']
    const bad = ['\ud800', 'x\udc00y', '\ud83d', 'end\ud83d', '\ude00\ud83d', '🙂\udc00']
    for (const s of good) expect([isWellFormed(s), isWellFormedByPattern(s)], JSON.stringify(s)).toEqual([true, true])
    for (const s of bad) expect([isWellFormed(s), isWellFormedByPattern(s)], JSON.stringify(s)).toEqual([false, false])
  })

  it('sees what JSON.parse makes of a "\\ud800" escape', () => {
    expect(isWellFormed(JSON.parse('"\\ud800"'))).toBe(false)
    expect(isWellFormed(JSON.parse('"\\ud83d\\ude42"'))).toBe(true)
  })
})

describe('textProblem', () => {
  it('names a NUL and a lone surrogate, accepts anything else', () => {
    expect(textProblem('a\u0000b')).toMatch(/NUL/)
    expect(textProblem('a\ud800b')).toMatch(/well-formed Unicode/)
    expect(textProblem('tab\tnewline\n🙂 \\u0000 as text')).toBeNull()
  })
})

describe('clip', () => {
  it('keeps at most max units, one fewer rather than half a pair', () => {
    expect(clip('abc', 5)).toBe('abc')
    expect(clip('abcdef', 3)).toBe('abc')
    expect(clip('ab🙂', 3)).toBe('ab')
    expect(clip('ab🙂', 4)).toBe('ab🙂')
  })
})

describe('jsonProblem', () => {
  const bounds = { maxDepth: 4 }

  it('accepts scalars, and nesting up to the bound', () => {
    for (const v of [null, 1, true, 'x', [], {}, nested(3, []), nested(4), [[[[1]]]]]) expect(jsonProblem(v, 'm', bounds), JSON.stringify(v)).toBeNull()
  })

  it('refuses one level deeper, naming where', () => {
    expect(jsonProblem(nested(4, {}), 'm', bounds)).toBe('m nests deeper than 4 levels (at m.a.a.a.a)')
    expect(jsonProblem([[[[[]]]]], 'm', bounds)).toBe('m nests deeper than 4 levels (at m[0][0][0][0])')
  })

  it('walks any depth without recursion', () => {
    let deep: unknown = 'end'
    for (let i = 0; i < 1_000_000; i++) deep = [deep]
    expect(jsonProblem(deep, 'body', { maxDepth: 64, text: false })).toMatch(/^body nests deeper than 64 levels/)
    expect(jsonProblem(nested(3000), 'metadata', { maxDepth: 5000 })).toBeNull()
  })

  it('finds a NUL or a lone surrogate in any string or key, never quoting it', () => {
    expect(jsonProblem({ a: [1, { b: 'x\u0000' }] }, 'metadata', bounds)).toBe('metadata.a[1].b must not contain NUL characters')
    expect(jsonProblem({ 'odd key': JSON.parse('"\\ud800"') }, 'metadata', bounds)).toBe('metadata["odd key"] must be well-formed Unicode (it holds a lone surrogate)')
    expect(jsonProblem({ a: { 'k\udc00': 1 } }, 'metadata', bounds)).toBe('metadata.a keys must be well-formed Unicode (it holds a lone surrogate)')
    expect(jsonProblem({ a: { 'k\u0000': 1 } }, 'metadata', bounds)).toBe('metadata.a keys must not contain NUL characters')
  })

  it('skips strings when told to (a depth bound only)', () => {
    expect(jsonProblem({ a: 'x\u0000', 'k\ud800': 1 }, 'body', { maxDepth: 4, text: false })).toBeNull()
  })

  it('keeps a long path short, never cutting a pair in half', () => {
    const key = '🙂'.repeat(100)
    const message = jsonProblem({ [key]: '\u0000' }, 'm', bounds)!
    expect(message.length).toBeLessThan(200)
    expect(isWellFormed(message)).toBe(true)
  })
})
