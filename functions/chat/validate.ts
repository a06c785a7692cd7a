import type { ErrorCode } from '../../shared/http/errors.ts'

export interface ChatInput {
  session_id: string
  content: string
}

export type Validation<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Validates a parsed chat body; every failure names the field so the caller can fix it. */
export function validateChatInput(body: unknown, maxContentChars: number): Validation<ChatInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, code: 'invalid_request', message: 'body must be a JSON object' }
  }
  const { session_id, content } = body as Record<string, unknown>
  if (typeof session_id !== 'string' || !UUID.test(session_id)) {
    return { ok: false, code: 'invalid_request', message: 'session_id must be a UUID string' }
  }
  if (typeof content !== 'string') {
    return { ok: false, code: 'invalid_request', message: 'content must be a string' }
  }
  if (content.trim() === '') {
    return { ok: false, code: 'invalid_request', message: 'content must not be empty' }
  }
  if (content.length > maxContentChars) {
    return { ok: false, code: 'content_too_large', message: `content exceeds ${maxContentChars} characters` }
  }
  return { ok: true, value: { session_id, content } }
}
