import { describe, expect, it } from 'vitest'
import { SESSION_TTL_MS, bearerValid, cleanName, createSession, readSession, safeNext, sessionValid, tokenMatches } from './auth'

const token = 'operator-token'

describe('sessions', () => {
  it('holds for 12 hours and not after', () => {
    const now = Date.parse('2026-11-25T12:00:00Z')
    const session = createSession(token, 'alice', now)
    expect(session.expires.getTime()).toBe(now + SESSION_TTL_MS)
    expect(sessionValid(session.value, token, now + SESSION_TTL_MS - 1)).toBe(true)
    expect(sessionValid(session.value, token, now + SESSION_TTL_MS)).toBe(false)
  })

  it('carries the operator name, signed', () => {
    const { value } = createSession(token, '  Alice   Martin ')
    expect(readSession(value, token)?.name).toBe('Alice Martin')
    const [expiry, , mac] = value.split('.')
    const forged = `${expiry}.${Buffer.from('mallory').toString('base64url')}.${mac}`
    expect(readSession(forged, token)).toBeNull()
    expect(readSession(createSession(token, '').value, token)?.name).toBe('operator')
  })

  it('does not carry the token and dies with it', () => {
    const { value } = createSession(token)
    expect(value).not.toContain(token)
    expect(sessionValid(value, 'rotated-token')).toBe(false)
  })

  it('refuses a forged expiry or signature', () => {
    const { value } = createSession(token)
    const [expiresAt, name, mac] = value.split('.')
    expect(sessionValid(`${Number(expiresAt) + 1000}.${name}.${mac}`, token)).toBe(false)
    expect(sessionValid(`${expiresAt}.${name}.x${mac}`, token)).toBe(false)
    for (const bad of [undefined, '', '.', '..', 'abc', `${expiresAt}`, `${expiresAt}.${mac}`]) expect(sessionValid(bad, token)).toBe(false)
  })

  it('never validates against an unset token', () => {
    expect(sessionValid(createSession('').value, '')).toBe(false)
    expect(tokenMatches('', '')).toBe(false)
  })
})

describe('cleanName', () => {
  it('keeps one bounded line', () => {
    expect(cleanName('a\nb\tc')).toBe('a b c')
    expect(cleanName('x'.repeat(100))).toHaveLength(60)
    expect(cleanName(null)).toBe('operator')
  })
})

describe('bearerValid', () => {
  it('takes Authorization: Bearer <token> only', () => {
    expect(bearerValid(`Bearer ${token}`, token)).toBe(true)
    expect(bearerValid(`bearer ${token}`, token)).toBe(true)
    expect(bearerValid(`Bearer ${token}x`, token)).toBe(false)
    expect(bearerValid(token, token)).toBe(false)
    expect(bearerValid(null, token)).toBe(false)
  })
})

describe('safeNext', () => {
  it('keeps local paths and refuses other sites', () => {
    expect(safeNext('/traces/abc?x=1')).toBe('/traces/abc?x=1')
    for (const next of [null, '', 'https://evil.example', '//evil.example', '/\\evil.example', '/login', '/login?next=/']) {
      expect(safeNext(next)).toBe('/')
    }
  })
})
