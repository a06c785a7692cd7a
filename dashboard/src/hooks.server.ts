import { redirect, type Handle, type HandleServerError } from '@sveltejs/kit'
import { env } from '$env/dynamic/private'
import { apiError } from '$lib/server/api'
import { SESSION_COOKIE, bearerValid, sessionValid } from '$lib/server/auth'
import { DatabaseError } from '$lib/server/db'

/** The only routes an anonymous visitor may reach. */
const OPEN = new Set(['/login', '/logout'])

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
  const { pathname, search } = event.url
  if (crossSiteForm(event.request, event.url.host)) {
    return new Response(`Cross-site ${event.request.method} form submissions are forbidden`, { status: 403 })
  }
  const token = env.OPERATOR_TOKEN ?? ''
  event.locals.operator =
    sessionValid(event.cookies.get(SESSION_COOKIE), token) ||
    bearerValid(event.request.headers.get('authorization'), token)

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
