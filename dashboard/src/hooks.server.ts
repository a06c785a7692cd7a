import { error, json, redirect, type Handle, type HandleServerError, type RequestEvent, type ServerInit } from '@sveltejs/kit'
import { building } from '$app/environment'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { apiError } from '$lib/server/api'
import { DatabaseError } from '$lib/server/db'
import { recognise, throttle, type Recognised } from '$lib/server/operator-auth'
import { assertOperatorToken } from '$lib/server/operator-token'
import { mayOperate } from '$lib/server/operators'

/** The only routes an anonymous visitor may reach. */
const OPEN = new Set(['/login', '/logout'])

/**
 * The user-facing apps (routes/(app)): prerendered static pages that sign in with a user JWT, not
 * the operator token, and show no telemetry. Let through before anything reads the operator
 * session, because prerendering runs without the settings the Node entry hands over.
 */
const PUBLIC = /^\/(chat|embed)(\/|$)/

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * A browser names the page a request comes from in Origin; a form posted from another
 * site is refused. Only the host is compared: the scheme in event.url is adapter-node's
 * guess (https) unless ORIGIN is set. Requests without Origin are not from a browser form.
 */
function crossSiteForm(request: Request, host: string): boolean {
  const origin = request.headers.get('origin')
  if (!origin || !UNSAFE.has(request.method)) return false
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (!['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'].includes(type)) return false
  try {
    return new URL(origin).host !== host
  } catch {
    return true
  }
}

/** At start (adapter-node loads the handler): missing settings or a weak OPERATOR_TOKEN stop the dashboard with the reason. */
export const init: ServerInit = () => {
  if (building) return
  assertOperatorToken(dashboardConfig().operatorToken)
  throttle()
}

const isApi = (pathname: string) => pathname === '/api' || pathname.startsWith('/api/')

/** The request's operator in locals; a refusal (bad bearer, throttled, database down) as a response. */
async function identify(event: RequestEvent): Promise<Response | null> {
  let who: Recognised
  try {
    who = await recognise(event)
  } catch (err) {
    if (!(err instanceof DatabaseError)) throw err
    const message = `could not check the operator session: ${err.message}`
    if (isApi(event.url.pathname)) return apiError('database_unavailable', message, {}, { 'retry-after': '5' })
    error(503, { message, code: 'database_unavailable' })
  }
  event.locals.identity = who.kind === 'operator' ? who.operator : null
  event.locals.operator = who.kind === 'operator'
  event.locals.operatorName = who.kind === 'operator' ? who.operator.name : null
  event.locals.sessionExpiresAt = who.kind === 'operator' ? who.expiresAt : null
  if (who.kind !== 'refused' || OPEN.has(event.url.pathname)) return null
  const headers: Record<string, string> = who.status === 401 ? { 'www-authenticate': 'Bearer' } : {}
  if (who.retryAfterSeconds) headers['retry-after'] = String(who.retryAfterSeconds)
  const code = ({ 401: 'unauthorized', 403: 'forbidden', 429: 'rate_limited', 503: 'auth_unavailable' } as const)[who.status]
  return apiError(code, who.message, {}, headers)
}

/** 403 in the shape the caller reads: the API's JSON, a form action's result (use:enhance), or the error page. */
function forbidden(event: RequestEvent, message: string): Response {
  if (isApi(event.url.pathname)) return apiError('forbidden', message)
  if (event.request.headers.get('x-sveltekit-action') === 'true') {
    return json({ type: 'error', status: 403, error: { message, code: 'forbidden' } }, { status: 403 })
  }
  error(403, { message, code: 'forbidden' })
}

export const handle: Handle = async ({ event, resolve }) => {
  // Before reading url.search: prerendering forbids it.
  if (PUBLIC.test(event.url.pathname)) {
    event.locals.operator = false
    return resolve(event)
  }
  const { pathname, search } = event.url
  if (crossSiteForm(event.request, event.url.host)) {
    return new Response(`Cross-site ${event.request.method} form submissions are forbidden`, { status: 403 })
  }
  const refused = await identify(event)
  if (refused) return refused

  if (!event.locals.operator && !OPEN.has(pathname)) {
    if (isApi(pathname)) {
      return apiError('unauthorized', 'operator sign-in required: log in, or send Authorization: Bearer <OPERATOR_TOKEN or a Supabase access token>', {}, {
        'www-authenticate': 'Bearer',
      })
    }
    // Thrown rather than returned so SvelteKit answers client-side navigations (data requests) too.
    redirect(303, `/login?next=${encodeURIComponent(pathname + search)}`)
  }
  // Viewers read; changing anything (the transport, alert rules) takes the operator role.
  // Checked here for every route, so no new form action or endpoint can forget it.
  if (UNSAFE.has(event.request.method) && !OPEN.has(pathname) && !mayOperate(event.locals.identity)) {
    return forbidden(event, `${event.locals.identity?.name ?? 'This account'} is a viewer: changes need the operator role.`)
  }

  const response = await resolve(event)
  // Telemetry pages hold user ids and prompts: keep them out of shared caches.
  if (!response.headers.has('cache-control')) response.headers.set('cache-control', 'private, no-store')
  return response
}

export const handleError: HandleServerError = ({ error, status, message }) => {
  // Already logged where it was raised; the operator needs the reason, not a generic page.
  if (error instanceof DatabaseError) return { message: error.message, code: 'internal_error' }
  if (status === 404) return { message, code: 'not_found' }
  console.error('[dashboard] unexpected error', error)
  return { message: 'Internal error: the dashboard could not render this page.', code: 'internal_error' }
}
