import { describe, expect, it } from 'vitest'
import { jsonText, noNul, realArrayLiteral } from './encode.ts'

describe('row value encoding', () => {
  it('prints offsets to 0.01 ms exactly as rounding the double would', () => {
    const xs = [0, 0.004, 0.005, 0.1, 0.25, 1, 1.5, 12.345, 20, 99.999, 1999.99, 123456.78, -0.05, -1.5, -2, 3.1, 1e9 + 0.07]
    expect(realArrayLiteral(xs)).toBe(`{${xs.map((x) => Math.round(x * 100) / 100).join(',')}}`)
    for (let i = 0; i < 2000; i++) {
      const x = (Math.random() - 0.1) * 10 ** Math.floor(Math.random() * 7)
      expect(realArrayLiteral([x])).toBe(`{${Math.round(x * 100) / 100}}`)
    }
    expect(realArrayLiteral([])).toBe('{}')
    expect(realArrayLiteral(null)).toBeNull()
  })

  it('keeps NUL out of text and jsonb', () => {
    expect(noNul('a\u0000b')).toBe('ab')
    expect(jsonText({ k: 'a\u0000b', escaped: '\\u0000' })).toBe('{"k":"ab","escaped":"\\\\u0000"}')
    expect(jsonText(null)).toBeNull()
  })
})
