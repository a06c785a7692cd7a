import type { ErrorCode } from '../../shared/http/errors.ts'
import { clip, textProblem } from '../../shared/well-formed.ts'

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
  // Stored as text: a NUL would fail the insert, a lone surrogate would be stored altered.
  const problem = textProblem(content)
  if (problem) return fail('invalid_request', `content ${problem}`)
  if (model !== undefined && model !== null && typeof model !== 'string') return fail('invalid_request', 'model must be a string')
  const chosen = model ?? limits.defaultModel
  if (!limits.modelAllowlist.includes(chosen)) {
    // Quoted into the span's status too: never a NUL or half a surrogate pair there.
    const named = textProblem(chosen) ? 'that model' : `model "${clip(chosen, 64)}"`
    return fail('unknown_model', `${named} is not available; use one of ${limits.modelAllowlist.join(', ')}`)
  }
  if (max_tokens !== undefined && max_tokens !== null && (typeof max_tokens !== 'number' || !Number.isSafeInteger(max_tokens) || max_tokens < 1)) {
    return fail('invalid_request', 'max_tokens must be a positive integer')
  }
  const maxTokens = Math.min((max_tokens as number | null | undefined) ?? limits.maxOutputTokens, limits.maxOutputTokens)
  return { ok: true, value: { session_id, content, model: chosen, max_tokens: maxTokens } }
}
