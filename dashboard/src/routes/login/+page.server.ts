import { fail, redirect, type RequestEvent } from '@sveltejs/kit'
import { AuthError, AuthUnavailableError } from '$shared/auth/jwt'
import { cleanName, safeNext, tokenMatches } from '$lib/server/auth'
import { DatabaseError } from '$lib/server/db'
import { authSettings, clientKey, noteFailure, operatorToken, startSession, throttled, tooManyMessage, verifyAccount } from '$lib/server/operator-auth'
import { accountsEnabled, NotAnOperatorError, passwordSignInEnabled } from '$lib/server/operator-jwt'
import { tokenOperator, type Operator } from '$lib/server/operators'
import { passwordGrant } from '$lib/server/supabase-auth'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = ({ locals, url }) => {
  const next = safeNext(url.searchParams.get('next'))
  if (locals.operator) redirect(303, next)
  const settings = authSettings()
  return {
    next,
    /** The shared OPERATOR_TOKEN (development and break-glass). */
    shared: operatorToken() !== '',
    /** Supabase accounts: a pasted access token, and e-mail + password when SUPABASE_URL is set. */
    accounts: accountsEnabled(settings),
    password: passwordSignInEnabled(settings),
  }
}

/** What a failed form gets back besides the error, to fill the fields in again. */
type Echo = { name?: string; email?: string }
/** Why not: 401 and 403 are failed sign-ins (counted); 429 and 503 are Supabase Auth's or ours to retry. */
type Refused = { status: 401 | 403 | 429 | 503; error: string }
const field = (form: FormData, name: string) => {
  const value = form.get(name)
  return typeof value === 'string' ? value : ''
}
const destination = (form: FormData, url: URL) => safeNext(field(form, 'next') || url.searchParams.get('next'))

/**
 * Every way in goes through here: refused while the address (or everyone) failed too
 * often, each failure counted and logged, success opening a server-side session.
 */
async function signIn(event: RequestEvent, via: string, echo: Echo, attempt: () => Promise<Operator | Refused>) {
  const address = clientKey(event)
  const refusal = await throttled(address, via)
  if (refusal) {
    event.setHeaders({ 'retry-after': String(refusal.retryAfterSeconds) })
    return fail(429, { ...echo, via, error: tooManyMessage(refusal) })
  }
  let who: Operator | Refused
  try {
    who = await attempt()
  } catch (err) {
    if (err instanceof AuthUnavailableError) return fail(503, { ...echo, via, error: `${err.message}.` })
    if (err instanceof DatabaseError) return fail(503, { ...echo, via, error: `The dashboard could not check your role: ${err.message}` })
    throw err
  }
  if ('error' in who) {
    if (who.status === 401 || who.status === 403) await noteFailure(address, via, who.error)
    return fail(who.status, { ...echo, via, error: who.error })
  }
  try {
    await startSession(event, who)
  } catch (err) {
    console.error(`[dashboard] could not open an operator session: ${(err as Error).message}`)
    return fail(503, { ...echo, via, error: `The session could not be stored: ${(err as Error).message}` })
  }
  return null
}

/** A Supabase access token → the operator, or why not (401 not a user token, 403 no role). */
async function account(accessToken: string): Promise<Operator | Refused> {
  try {
    return (await verifyAccount(accessToken)).operator
  } catch (err) {
    if (err instanceof NotAnOperatorError) return { status: 403, error: `${err.message}.` }
    if (err instanceof AuthError) return { status: 401, error: `That access token was refused: ${err.message}.` }
    throw err
  }
}

export const actions: Actions = {
  /** The shared OPERATOR_TOKEN, with a name that is recorded beside it. */
  token: async (event) => {
    const form = await event.request.formData()
    const name = field(form, 'name').slice(0, 200)
    const failed = await signIn(event, 'operator token', { name }, async () => {
      const token = operatorToken()
      if (!token) return { status: 403, error: 'The shared operator token is off on this server (OPERATOR_TOKEN is not set): sign in with your account.' }
      if (!tokenMatches(field(form, 'token').trim(), token)) return { status: 401, error: 'That is not the operator token.' }
      return tokenOperator(cleanName(name))
    })
    if (failed) return failed
    redirect(303, destination(form, event.url))
  },

  /** A Supabase access token pasted from a signed-in app (supabase.auth.getSession()). */
  account: async (event) => {
    const form = await event.request.formData()
    const failed = await signIn(event, 'access token', {}, async () => {
      if (!accountsEnabled(authSettings())) return { status: 403, error: 'Account sign-in is off on this server (no JWT_SECRET, SUPABASE_JWKS, JWKS_URL or SUPABASE_URL).' }
      const accessToken = field(form, 'access_token').trim()
      if (!accessToken) return { status: 401, error: 'Paste an access token.' }
      return account(accessToken)
    })
    if (failed) return failed
    redirect(303, destination(form, event.url))
  },

  /** E-mail + password, through the project's Supabase Auth (SUPABASE_URL). */
  password: async (event) => {
    const form = await event.request.formData()
    const email = field(form, 'email').trim().slice(0, 320)
    const failed = await signIn(event, 'e-mail and password', { email }, async () => {
      const settings = authSettings()
      if (!passwordSignInEnabled(settings)) return { status: 403, error: 'E-mail sign-in is off on this server (no SUPABASE_URL and SUPABASE_ANON_KEY).' }
      const password = field(form, 'password')
      if (!email || !password) return { status: 401, error: 'Enter your e-mail address and password.' }
      const grant = await passwordGrant(settings, email, password)
      if (grant.ok) return account(grant.accessToken)
      const error = /[.!?]$/.test(grant.message) ? grant.message : `${grant.message}.`
      return { status: ({ invalid_credentials: 401, rate_limited: 429, unavailable: 503 } as const)[grant.reason], error }
    })
    if (failed) return failed
    redirect(303, destination(form, event.url))
  },
}
