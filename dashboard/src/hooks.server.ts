import { redirect, type Handle, type HandleServerError } from '@sveltejs/kit'
import { env } from '$env/dynamic/private'
import { apiError } from '$lib/server/api'
import { API_OPERATOR, SESSION_COOKIE, bearerValid, readSession } from '$lib/server/auth'
import { DatabaseError } from '$lib/server/db'

/** The only routes an anonymous visitor may reach. */
const OPEN = new Set(['/login', '/logout'])

/**
 * The user-facing apps (routes/(app)): prerendered static pages that sign in with a user JWT, not
 * the operator token, and show no telemetry. Let through before anything reads the operator
 * session, because prerendering cannot read $env/dynamic/private.
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
  const token = env.OPERATOR_TOKEN ?? ''
  const session = readSession(event.cookies.get(SESSION_COOKIE), token)
  const bearer = bearerValid(event.request.headers.get('authorization'), token)
  event.locals.operator = session !== null || bearer
  event.locals.operatorName = session?.name ?? (bearer ? API_OPERATOR : null)
  event.locals.sessionExpiresAt = session?.expiresAt ?? null

  if (!event.locals.operator && !OPEN.has(pathname)) {
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      return apiError('unauthorized', 'operator token required: log in, or send Authorization: Bearer <OPERATOR_TOKEN>', {}, {
        'www-authenticate': 'Bearer',
      })
    }
    // Thrown rather than returned so SvelteKit answers client-side navigations (data requests) too.
    redirect(303, `/login?next=${encodeURIComponent(pathname + search)}`)
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
