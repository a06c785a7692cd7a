// A stand-in for Supabase Auth on the local Node server, so the chat and embed pages can sign in
// without GoTrue: POST /local-auth/token {email} → a user JWT signed like Supabase's. Development
// only: it hands a token to anyone who asks, so it is off unless the JWT secret is the
// development default or LOCAL_AUTH=1, and LOCAL_AUTH=0 turns it off regardless.
import { signUserToken } from '../shared/auth/jwt.ts'
import { errorResponse } from '../shared/http/errors.ts'
import { DEV_JWT_SECRET } from './dev-defaults.ts'

export const LOCAL_AUTH_ROUTE = '/local-auth/token'
const TTL_SECONDS = 3600
const EMAIL = /^[^\s@]+@[^\s@]+$/

export function localAuthEnabled(env: Record<string, string | undefined>, jwtSecret: string): boolean {
  if (env.LOCAL_AUTH === '0') return false
  return env.LOCAL_AUTH === '1' || jwtSecret === DEV_JWT_SECRET
}

/** RFC 9562 UUIDv5 of the address in a namespace of our own: one stable user id per email. */
export async function userIdFromEmail(email: string): Promise<string> {
  const namespace = hexBytes('6f2b7c1e4d3a4b5c8d9e0f1a2b3c4d5e')
  const name = new TextEncoder().encode(email.trim().toLowerCase())
  const input = new Uint8Array(namespace.length + name.length)
  input.set(namespace)
  input.set(name, namespace.length)
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-1', input)).slice(0, 16)
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = [...hash].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16))
}

export function createLocalAuth(o: { jwtSecret: string; enabled: boolean }): (req: Request) => Promise<Response> {
  return async (req) => {
    const traceId = crypto.randomUUID().replaceAll('-', '')
    if (!o.enabled || new URL(req.url).pathname !== LOCAL_AUTH_ROUTE) {
      return errorResponse('not_found', o.enabled ? 'no such route' : 'local sign-in is off (set LOCAL_AUTH=1 on a development server)', traceId)
    }
    if (req.method !== 'POST') return errorResponse('method_not_allowed', 'use POST', traceId, { allow: 'POST' })
    if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
      return errorResponse('unsupported_media_type', 'content-type must be application/json', traceId)
    }
    let body: unknown
    try {
      body = await req.json()
    } catch {
      return errorResponse('invalid_json', 'body is not valid JSON', traceId)
    }
    const email = (body as { email?: unknown } | null)?.email
    if (typeof email !== 'string' || email.length > 320 || !EMAIL.test(email.trim())) {
      return errorResponse('invalid_request', 'email must be an email address', traceId)
    }
    const id = await userIdFromEmail(email)
    const accessToken = await signUserToken(o.jwtSecret, id, TTL_SECONDS)
    // Shaped like GoTrue's token response, so code written against it reads this too.
    return Response.json({
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: TTL_SECONDS,
      expires_at: Math.floor(Date.now() / 1000) + TTL_SECONDS,
      user: { id, email: email.trim().toLowerCase(), role: 'authenticated', aud: 'authenticated' },
    }, { headers: { 'cache-control': 'no-store' } })
  }
}
