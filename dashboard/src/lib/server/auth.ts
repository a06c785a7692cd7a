import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const SESSION_COOKIE = 'streamscope_operator'
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000
/** Who a bearer-token caller is recorded as (flag history). */
export const API_OPERATOR = 'api token'
export const MAX_NAME = 60

// Hashing both sides first gives equal-length inputs, so the comparison leaks
// neither the content nor the length of the secret.
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(a), digest(b))
}

function sign(token: string, expiresAt: number, name: string): string {
  return createHmac('sha256', token).update(`streamscope operator session:${expiresAt}:${name}`).digest('base64url')
}

export function tokenMatches(candidate: string, token: string): boolean {
  return token !== '' && safeEqual(candidate, token)
}

/** An operator's name as typed at login: trimmed, one line, bounded; 'operator' when blank. */
export function cleanName(name: string | null | undefined): string {
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_NAME)
  return clean || 'operator'
}

export interface Session {
  name: string
  expiresAt: number
}

/**
 * The cookie value: an expiry, the operator's name and their HMAC keyed with the operator
 * token. The token itself never leaves the server, the expiry holds even if a browser keeps
 * the cookie, and rotating OPERATOR_TOKEN ends every session.
 */
export function createSession(token: string, name = 'operator', now = Date.now()): { value: string; expires: Date } {
  const expiresAt = now + SESSION_TTL_MS
  const encoded = Buffer.from(cleanName(name)).toString('base64url')
  return { value: `${expiresAt}.${encoded}.${sign(token, expiresAt, encoded)}`, expires: new Date(expiresAt) }
}

export function readSession(value: string | undefined, token: string, now = Date.now()): Session | null {
  if (!value || token === '') return null
  const parts = value.split('.')
  if (parts.length !== 3) return null
  const [expiry, encoded, mac] = parts as [string, string, string]
  const expiresAt = Number(expiry)
  if (!/^\d+$/.test(expiry) || !Number.isSafeInteger(expiresAt) || expiresAt <= now) return null
  if (!safeEqual(mac, sign(token, expiresAt, encoded))) return null
  return { name: Buffer.from(encoded, 'base64url').toString('utf8'), expiresAt }
}

export function sessionValid(value: string | undefined, token: string, now = Date.now()): boolean {
  return readSession(value, token, now) !== null
}

/**
 * Attributes of the session cookie, the same when it is set and when it is cleared.
 * Secure only when the browser is on https, as its Origin says: on the plain-http local
 * server a Secure cookie would be dropped, and event.url's scheme is only adapter-node's
 * guess unless ORIGIN is set.
 */
export function cookieOptions(request: Request) {
  const secure = request.headers.get('origin')?.startsWith('https:') ?? false
  return { path: '/', httpOnly: true, sameSite: 'lax', secure } as const
}

/** `Authorization: Bearer <OPERATOR_TOKEN>`, for scripts and tests. */
export function bearerValid(header: string | null, token: string): boolean {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i)
  return match?.[1] !== undefined && tokenMatches(match[1], token)
}

/** Where to go after login: only a path on this site, never `//host` or back to /login. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  if (next === '/login' || next.startsWith('/login?')) return '/'
  return next
}
