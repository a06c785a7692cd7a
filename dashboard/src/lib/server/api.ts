import { json } from '@sveltejs/kit'

const STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  internal_error: 500,
  auth_unavailable: 503,
  database_unavailable: 503,
} as const

export type ApiErrorCode = keyof typeof STATUS

/**
 * The project's error shape (shared/http/errors.ts): clients switch on `code`, never on `message`.
 * The dashboard's reads are not traced, so an error gets an id of its own to quote in a bug
 * report, on the body and in `x-trace-id`, and a server error is logged under it.
 */
export function apiError(code: ApiErrorCode, message: string, extra: Record<string, string> = {}, headers: HeadersInit = {}): Response {
  const traceId = crypto.randomUUID().replaceAll('-', '')
  if (STATUS[code] >= 500) console.error(`[dashboard] ${code} trace_id=${traceId}: ${message}`)
  const h = new Headers(headers)
  h.set('x-trace-id', traceId)
  return json({ error: { code, message, trace_id: traceId, ...extra } }, { status: STATUS[code], headers: h })
}
