import { createHash, timingSafeEqual } from 'node:crypto'
import { clip } from '../../../../shared/well-formed.ts'

/** The cookie holding an operator session's random id (operator-sessions.ts). */
export const SESSION_COOKIE = 'streamscope_operator'
export const MAX_NAME = 60

// Hashing both sides first gives equal-length inputs, so the comparison leaks
// neither the content nor the length of the secret.
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(a), digest(b))
}

export function tokenMatches(candidate: string, token: string): boolean {
  return token !== '' && safeEqual(candidate, token)
}

/** An operator's name as typed at login: trimmed, one line, bounded (never half a character); 'operator' when blank. */
export function cleanName(name: string | null | undefined): string {
  const oneLine = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim()
  const clean = clip(oneLine, MAX_NAME)
  return clean || 'operator'
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

/** The credential of `Authorization: Bearer <credential>`, or null. */
export function bearerCredential(header: string | null): string | null {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null
}

/** `Authorization: Bearer <OPERATOR_TOKEN>`, for scripts and tests. */
export function bearerValid(header: string | null, token: string): boolean {
  const credential = bearerCredential(header)
  return credential !== null && tokenMatches(credential, token)
}

const BASE = 'http://streamscope.invalid'

/**
 * Where to go after login: a path on this site, as the URL parser reads it (which drops
 * tabs and line breaks and turns `\` into `/`), re-serialized so that nothing a browser
 * could read as another host — `//host`, `/\host`, `/\t/host` — or a header-breaking
 * character survives; never back to /login.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/'
  let url: URL
  try {
    url = new URL(next, BASE)
  } catch {
    return '/'
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return '/'
  if (url.pathname === '/login' || url.pathname.startsWith('/login/')) return '/'
  return `${url.pathname}${url.search}${url.hash}`
}
