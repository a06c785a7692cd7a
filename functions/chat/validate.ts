import type { ErrorCode } from '../../shared/http/errors.ts'

export interface ChatInput {
  session_id: string
  content: string
  /** The model asked for, already checked against the allowlist (or the default). */
  model: string
  /** max_tokens asked for, capped by the configured maximum. */
  max_tokens: number
}

export interface ChatLimits {
  maxContentChars: number
  maxOutputTokens: number
  defaultModel: string
  modelAllowlist: string[]
}

export type Validation<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Validates a parsed chat body; every failure names the field so the caller can fix it.
 * Messages never quote `content` (it may be sensitive) and quote a model name only shortened.
 */
export function validateChatInput(body: unknown, limits: ChatLimits): Validation<ChatInput> {
  const fail = (code: ErrorCode, message: string) => ({ ok: false as const, code, message })
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('invalid_request', 'body must be a JSON object')
  const { session_id, content, model, max_tokens } = body as Record<string, unknown>
  if (typeof session_id !== 'string' || !UUID.test(session_id)) return fail('invalid_request', 'session_id must be a UUID string')
  if (typeof content !== 'string') return fail('invalid_request', 'content must be a string')
  if (content.trim() === '') return fail('invalid_request', 'content must not be empty')
  if (content.length > limits.maxContentChars) return fail('content_too_large', `content exceeds ${limits.maxContentChars} characters`)
  // PostgreSQL text cannot hold NUL: refused here rather than failing the insert with a 5xx.
  if (content.includes('\u0000')) return fail('invalid_request', 'content must not contain NUL characters')
  if (model !== undefined && model !== null && typeof model !== 'string') return fail('invalid_request', 'model must be a string')
  const chosen = model ?? limits.defaultModel
  if (!limits.modelAllowlist.includes(chosen)) {
    return fail('unknown_model', `model "${chosen.slice(0, 64)}" is not available; use one of ${limits.modelAllowlist.join(', ')}`)
  }
  if (max_tokens !== undefined && max_tokens !== null && (typeof max_tokens !== 'number' || !Number.isSafeInteger(max_tokens) || max_tokens < 1)) {
    return fail('invalid_request', 'max_tokens must be a positive integer')
  }
  const maxTokens = Math.min((max_tokens as number | null | undefined) ?? limits.maxOutputTokens, limits.maxOutputTokens)
  return { ok: true, value: { session_id, content, model: chosen, max_tokens: maxTokens } }
}
