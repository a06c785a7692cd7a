/** Stable error codes: clients switch on `code`, never on `message`. Documented in README.md. */
export const ERRORS = {
  method_not_allowed: 405,
  unsupported_media_type: 415,
  invalid_json: 400,
  invalid_request: 400,
  content_too_large: 413,
  unauthorized: 401,
  not_found: 404,
  unknown_model: 400,
  rate_limited: 429,
  stream_gone: 410,
  duplicate_request: 409,
  auth_unavailable: 503,
  database_unavailable: 503,
  provider_error: 502,
  provider_unavailable: 503,
  internal_error: 500,
} as const

export type ErrorCode = keyof typeof ERRORS

export function errorResponse(code: ErrorCode, message: string, traceId: string, headers: HeadersInit = {}): Response {
  return Response.json({ error: { code, message, trace_id: traceId } }, {
    status: ERRORS[code],
    headers: { 'x-trace-id': traceId, ...headers },
  })
}
