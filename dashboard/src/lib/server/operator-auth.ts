// Signing operators in and out, and recognising them on each request: the glue between the
// settings, the session store, the token checks and the throttle.
import type { Cookies, RequestEvent } from '@sveltejs/kit'
import { AuthError, AuthUnavailableError } from '$shared/auth/jwt'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { SESSION_COOKIE, bearerCredential, cookieOptions, tokenMatches } from './auth.ts'
import { readTelemetry, writeAsDashboard } from './db.ts'
import { accountsEnabled, createOperatorVerifier, looksLikeJwt, NotAnOperatorError } from './operator-jwt.ts'
import { SESSION_TTL_SECONDS, allowListRole, closeSession, newSessionId, openSession, readSession, tokenEpoch } from './operator-sessions.ts'
import { API_OPERATOR, tokenOperator, type Operator } from './operators.ts'
import { noteSigninFailure, signinRefusal } from './signin-failures.ts'
import { addressKey, createAuthThrottle, type AuthThrottle, type Refusal } from './throttle.ts'

const WINDOW_SECONDS = 60
let created: AuthThrottle | undefined
/**
 * This process's own count: what holds while the database cannot be asked (the shared count in
 * Postgres is the one enforced otherwise). Made at start (hooks.server.ts init) or on first use.
 */
export const throttle = () => (created ??= createAuthThrottle({ ...dashboardConfig().signInFailures, windowMs: WINDOW_SECONDS * 1000 }))

const log = (line: string) => console.warn(`[dashboard] ${line}`)

export const operatorToken = () => dashboardConfig().operatorToken
export const authSettings = () => dashboardConfig().auth

/** The client's address as adapter-node sees it (ADDRESS_HEADER behind a proxy), as the throttle counts it. */
export function clientKey(event: Pick<RequestEvent, 'getClientAddress'>): string {
  try {
    return addressKey(event.getClientAddress())
  } catch {
    return 'unknown'
  }
}

/** A refusal for an attempt from `address` while it (or everyone) failed too often, in any dashboard process; logged. */
export async function throttled(address: string, via: string): Promise<Refusal | null> {
  const limits = { ...dashboardConfig().signInFailures, windowSeconds: WINDOW_SECONDS }
  const refusal = await readTelemetry((sql) => signinRefusal(sql, address, limits)).catch(() => throttle().refusal(address))
  if (refusal) log(`operator sign-in throttled (${via}) from ${address}: too many failures ${refusal.scope === 'global' ? 'from all addresses' : 'from this address'}; retry in ${refusal.retryAfterSeconds} s`)
  return refusal
}

export async function noteFailure(address: string, via: string, reason: string): Promise<void> {
  const local = throttle().fail(address)
  const failures = await writeAsDashboard((sql) => noteSigninFailure(sql, address, WINDOW_SECONDS)).catch(() => local)
  log(`operator sign-in failed (${via}) from ${address}: ${reason} (${failures} from this address this minute)`)
}

export function tooManyMessage(r: Refusal): string {
  return `Too many failed sign-ins ${r.scope === 'global' ? 'on this dashboard' : 'from your address'}; try again in ${r.retryAfterSeconds} s.`
}

/** A Supabase access token → the operator, with the allow-list read as the dashboard role. */
export function verifyAccount(accessToken: string) {
  const verify = createOperatorVerifier(authSettings(), (userId, email) => readTelemetry((sql) => allowListRole(sql, userId, email)))
  return verify(accessToken)
}

export async function startSession(event: Pick<RequestEvent, 'cookies' | 'request'>, who: Operator): Promise<void> {
  const id = newSessionId()
  const expiresAt = await writeAsDashboard((sql) => openSession(sql, id, tokenEpoch(operatorToken()), who, SESSION_TTL_SECONDS))
  event.cookies.set(SESSION_COOKIE, id, { ...cookieOptions(event.request), expires: new Date(expiresAt), maxAge: SESSION_TTL_SECONDS })
  log(`operator signed in: ${who.name} (${who.role}${who.userId ? `, user ${who.userId}` : ''})`)
}

/** Logout: the session ends on the server (every process), then the cookie goes. */
export async function endSession(cookies: Cookies, request: Request): Promise<void> {
  const id = cookies.get(SESSION_COOKIE)
  cookies.delete(SESSION_COOKIE, cookieOptions(request))
  if (id) await writeAsDashboard((sql) => closeSession(sql, id))
}

export type Recognised =
  | { kind: 'operator'; operator: Operator; expiresAt: number | null }
  | { kind: 'anonymous' }
  | { kind: 'refused'; status: 401 | 403 | 429 | 503; message: string; retryAfterSeconds?: number }

/**
 * Who sent this request: a session cookie, else `Authorization: Bearer` with the shared
 * token or a Supabase access token. A failed bearer counts towards the throttle; a stale
 * cookie does not (it is 256 random bits: nothing to guess). Throws DatabaseError when
 * the session cannot be checked.
 */
export async function recognise(event: Pick<RequestEvent, 'cookies' | 'request' | 'getClientAddress'>): Promise<Recognised> {
  const token = operatorToken()
  const sessionId = event.cookies.get(SESSION_COOKIE)
  if (sessionId) {
    const session = await readTelemetry((sql) => readSession(sql, sessionId, tokenEpoch(token)))
    if (session) return { kind: 'operator', operator: session, expiresAt: session.expiresAt }
  }
  const header = event.request.headers.get('authorization')
  if (header === null) return { kind: 'anonymous' }

  const address = clientKey(event)
  const refusal = await throttled(address, 'bearer')
  if (refusal) return { kind: 'refused', status: 429, message: tooManyMessage(refusal), retryAfterSeconds: refusal.retryAfterSeconds }
  const credential = bearerCredential(header)
  if (credential !== null && tokenMatches(credential, token)) return { kind: 'operator', operator: tokenOperator(API_OPERATOR), expiresAt: null }
  if (credential !== null && looksLikeJwt(credential) && accountsEnabled(authSettings())) {
    try {
      const { operator, expiresAt } = await verifyAccount(credential)
      return { kind: 'operator', operator, expiresAt }
    } catch (err) {
      if (err instanceof AuthUnavailableError) return { kind: 'refused', status: 503, message: err.message, retryAfterSeconds: 5 }
      if (!(err instanceof AuthError) && !(err instanceof NotAnOperatorError)) throw err
      await noteFailure(address, 'bearer', err.message)
      return { kind: 'refused', status: err instanceof NotAnOperatorError ? 403 : 401, message: err.message }
    }
  }
  await noteFailure(address, 'bearer', credential === null ? 'not a Bearer header' : 'wrong operator token')
  return { kind: 'refused', status: 401, message: 'operator token required: log in, or send Authorization: Bearer <OPERATOR_TOKEN or a Supabase access token>' }
}
