import type { ErrorCode } from '../shared/http/errors.ts'
import { jsonProblem } from '../shared/well-formed.ts'

export type BodyResult = { ok: true; value: unknown } | { ok: false; code: ErrorCode; message: string }

/**
 * The largest body a valid chat request can have: `content` of maxContentChars UTF-16
 * units, each at most 6 bytes as JSON (a `\uXXXX` escape), plus room for the other fields.
 */
export const maxBodyBytes = (maxContentChars: number) => maxContentChars * 6 + 64 * 1024

/**
 * Most arrays and objects a body may nest. No request needs more than a few (embed's
 * metadata has its own, smaller bound); a deeper body is refused before any reader that
 * recurses (JSON.stringify, a validator) can run out of stack on it.
 */
export const MAX_BODY_DEPTH = 64

/**
 * Reads a JSON body without holding more than `maxBytes` of it: a declared
 * content-length over the limit is refused before reading, and a body without one
 * (chunked) is cut off as soon as it passes the limit.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false as const, code: 'content_too_large' as const, message: `body exceeds ${maxBytes} bytes` }
  const declared = req.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) {
    await req.body?.cancel().catch(() => {})
    return tooLarge
  }
  if (!req.body) return { ok: false, code: 'invalid_json', message: 'body is empty' }
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > maxBytes) {
        await reader.cancel().catch(() => {})
        return tooLarge
      }
      chunks.push(value)
    }
  } catch {
    return { ok: false, code: 'invalid_request', message: 'body could not be read' }
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return { ok: false, code: 'invalid_json', message: 'body is not valid UTF-8' }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, code: 'invalid_json', message: 'body is not valid JSON' }
  }
  const tooDeep = jsonProblem(value, 'body', { maxDepth: MAX_BODY_DEPTH, text: false })
  if (tooDeep) return { ok: false, code: 'invalid_request', message: tooDeep }
  return { ok: true, value }
}
