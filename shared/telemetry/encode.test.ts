import { describe, expect, it } from 'vitest'
import { isoTime, jsonText, noNul, realArrayLiteral } from './encode.ts'

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

  it('prints a time exactly as toISOString does', () => {
    const now = Date.now()
    const times = [0, 1, 999, 1000, -1, -999, -1001, 1.9994, now, now + 0.5, now + 1, now + 999, now + 1000, 253402300799999, 253402300800000, -62167219200000, -62167219200001]
    for (let i = 0; i < 5000; i++) times.push(now + (Math.random() - 0.5) * 4e4, Math.random() * 4e12 - 1e12)
    for (const t of times) expect(isoTime(t)).toBe(new Date(t).toISOString())
    expect(() => isoTime(NaN)).toThrow(RangeError)
  })
})
