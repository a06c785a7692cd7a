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

/** The project's error shape (shared/http/errors.ts): clients switch on `code`, never on `message`. */
export function apiError(code: ApiErrorCode, message: string, extra: Record<string, string> = {}, headers: HeadersInit = {}): Response {
  return json({ error: { code, message, ...extra } }, { status: STATUS[code], headers })
}
