import type { ErrorCode } from '../../shared/http/errors.ts'
import { utf8Length } from '../../shared/utf8.ts'
import { jsonProblem, textProblem } from '../../shared/well-formed.ts'

export type EmbedInput =
  | { kind: 'document'; inputs: string[]; document_id?: string; metadata: Record<string, unknown> }
  | { kind: 'message'; message_id: string }

export interface EmbedLimits {
  maxInputs: number
  maxInputChars: number
  maxTotalChars: number
  maxMetadataBytes: number
}

/** Most objects and arrays nested in metadata, metadata itself included: labels, not documents. */
export const MAX_METADATA_DEPTH = 32

export type Validation<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const bad = (message: string): Validation<never> => ({ ok: false, code: 'invalid_request', message })
const tooLarge = (message: string): Validation<never> => ({ ok: false, code: 'content_too_large', message })

/**
 * Validates a parsed embed body. Types are checked before sizes, so a request that is
 * both malformed and oversize gets the 400 that tells the caller what to fix first.
 */
export function validateEmbedInput(body: unknown, limits: EmbedLimits): Validation<EmbedInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('body must be a JSON object')
  const { input, document_id, metadata, message_id } = body as Record<string, unknown>

  if (message_id !== undefined) {
    if (input !== undefined || document_id != null || metadata != null) {
      return bad('message_id cannot be combined with input, document_id or metadata')
    }
    if (typeof message_id !== 'string' || !UUID.test(message_id)) return bad('message_id must be a UUID string')
    return { ok: true, value: { kind: 'message', message_id: message_id.toLowerCase() } }
  }

  if (input === undefined) return bad('input (a string or an array of strings) or message_id is required')
  const inputs = typeof input === 'string' ? [input] : input
  if (!Array.isArray(inputs)) return bad('input must be a string or an array of strings')
  if (inputs.length === 0) return bad('input must not be an empty array')
  for (const [i, text] of inputs.entries()) {
    const where = typeof input === 'string' ? 'input' : `input[${i}]`
    if (typeof text !== 'string') return bad(`${where} must be a string`)
    if (text.trim() === '') return bad(`${where} must not be empty`)
    const problem = textProblem(text)
    if (problem) return bad(`${where} ${problem}`)
  }
  if (document_id != null && (typeof document_id !== 'string' || !UUID.test(document_id))) {
    return bad('document_id must be a UUID string')
  }
  if (metadata != null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    return bad('metadata must be a JSON object')
  }
  // Before anything recurses into it (JSON.stringify), and before jsonb refuses it.
  const metaProblem = jsonProblem(metadata ?? {}, 'metadata', { maxDepth: MAX_METADATA_DEPTH })
  if (metaProblem) return bad(metaProblem)

  if (inputs.length > limits.maxInputs) return tooLarge(`input has ${inputs.length} items; at most ${limits.maxInputs} per request`)
  let total = 0
  for (const [i, text] of (inputs as string[]).entries()) {
    if (text.length > limits.maxInputChars) {
      return tooLarge(`${typeof input === 'string' ? 'input' : `input[${i}]`} exceeds ${limits.maxInputChars} characters`)
    }
    total += text.length
  }
  if (total > limits.maxTotalChars) return tooLarge(`input totals ${total} characters; at most ${limits.maxTotalChars} per request`)
  const meta = (metadata ?? {}) as Record<string, unknown>
  if (utf8Length(JSON.stringify(meta)) > limits.maxMetadataBytes) {
    return tooLarge(`metadata exceeds ${limits.maxMetadataBytes} bytes of JSON`)
  }
  return {
    ok: true,
    value: {
      kind: 'document',
      inputs: inputs as string[],
      ...(typeof document_id === 'string' ? { document_id: document_id.toLowerCase() } : {}),
      metadata: meta,
    },
  }
}
