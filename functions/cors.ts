import type { Handler } from './router.ts'

// A browser app on its own origin (https://app.example.com) calls the functions on the
// project's (https://<ref>.supabase.co): Supabase leaves CORS to each function, so every
// function answers the preflight and marks its responses here, including its errors.

const ALLOW_HEADERS = [
  'authorization', 'apikey', 'x-client-info', 'content-type', 'accept', 'traceparent', 'tracestate',
  'idempotency-key', 'last-event-id', 'x-resume-stream-id', 'x-resume-trace-id', 'x-streamscope-run-id',
].join(', ')
// What a client library reads from a response; the rest stays hidden from other origins.
const EXPOSE_HEADERS = ['x-trace-id', 'traceparent', 'x-stream-id', 'x-chat-transport', 'x-heartbeat-seconds', 'x-resumed-from', 'retry-after'].join(', ')

/** `allowedOrigins`: ['*'] (any origin: the functions authenticate by bearer token, not cookies) or exact origins. */
export function withCors(handler: Handler, allowedOrigins: readonly string[]): Handler {
  const any = allowedOrigins.includes('*')
  const allowOrigin = (origin: string | null): string | null => (any ? '*' : origin !== null && allowedOrigins.includes(origin) ? origin : null)

  return async (req) => {
    const origin = allowOrigin(req.headers.get('origin'))
    const cors: Record<string, string> = origin === null ? {} : { 'access-control-allow-origin': origin }
    if (!any) cors.vary = 'origin'
    if (req.method === 'OPTIONS' && req.headers.has('access-control-request-method')) {
      return new Response(null, {
        status: 204,
        headers: origin === null ? cors : {
          ...cors,
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': ALLOW_HEADERS,
          'access-control-max-age': '86400',
        },
      })
    }
    const res = await handler(req)
    return withHeaders(res, origin === null ? cors : { ...cors, 'access-control-expose-headers': EXPOSE_HEADERS })
  }
}

function withHeaders(res: Response, headers: Record<string, string>): Response {
  try {
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v)
    return res
  } catch {
    // Immutable headers (a Response from fetch): copy it, body untouched (a stream stays a stream).
    const copy = new Response(res.body, { status: res.status, statusText: res.statusText, headers: res.headers })
    for (const [k, v] of Object.entries(headers)) copy.headers.set(k, v)
    return copy
  }
}
