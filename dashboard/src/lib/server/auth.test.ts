import { describe, expect, it } from 'vitest'
import { bearerCredential, bearerValid, cleanName, safeNext, tokenMatches } from './auth'

const token = 'operator-token'

describe('tokenMatches', () => {
  it('never matches an unset token', () => {
    expect(tokenMatches('', '')).toBe(false)
    expect(tokenMatches(token, token)).toBe(true)
    expect(tokenMatches(`${token}x`, token)).toBe(false)
  })
})

describe('cleanName', () => {
  it('keeps one bounded line', () => {
    expect(cleanName('a\nb\tc')).toBe('a b c')
    expect(cleanName('x'.repeat(100))).toHaveLength(60)
    expect(cleanName(null)).toBe('operator')
    // An emoji straddling the bound is dropped whole, not cut into a lone surrogate.
    expect(cleanName(`${'x'.repeat(59)}😀`)).toBe('x'.repeat(59))
  })
})

describe('bearerValid', () => {
  it('takes Authorization: Bearer <token> only', () => {
    expect(bearerValid(`Bearer ${token}`, token)).toBe(true)
    expect(bearerValid(`bearer ${token}`, token)).toBe(true)
    expect(bearerValid(`Bearer ${token}x`, token)).toBe(false)
    expect(bearerValid(token, token)).toBe(false)
    expect(bearerValid(null, token)).toBe(false)
    expect(bearerCredential('Bearer a.b.c')).toBe('a.b.c')
    expect(bearerCredential('Basic abc')).toBeNull()
  })
})

describe('safeNext', () => {
  it('keeps local paths', () => {
    expect(safeNext('/traces/abc?x=1')).toBe('/traces/abc?x=1')
    expect(safeNext('/streams?range=6h#top')).toBe('/streams?range=6h#top')
    expect(safeNext('/a b')).toBe('/a%20b')
  })

  it('never leaves this origin, whatever a browser would make of it', () => {
    const attacks = [
      null, '', 'https://evil.example', '//evil.example', '/\\evil.example', '/\t/evil.example/x', '/\n/evil.example',
      '/\r/evil.example', '\t//evil.example', '/.//evil.example', '/%2e//evil.example', '/..//evil.example', 'javascript:alert(1)',
      '/\u0000', '\n', '\r', '/x\ny', '/login', '/login?next=/', '/login/', '/./login',
    ]
    for (const next of attacks) {
      const out = safeNext(next)
      expect(out, JSON.stringify(next)).toBe('/')
    }
  })

  it('answers only values a Location header can carry, pointing at this origin', () => {
    for (const next of ['/%09/evil.example/x', '/%0A', '/%0D', '/%2F%2Fevil.example', '/x?y=%0d%0a', '/ü?ä=1']) {
      const out = safeNext(next)
      expect(out.startsWith('/') && !out.startsWith('//'), next).toBe(true)
      expect(/^[\x21-\x7e]*$/.test(out), next).toBe(true)
      expect(new URL(out, 'https://dashboard.example').origin, next).toBe('https://dashboard.example')
    }
  })
})
