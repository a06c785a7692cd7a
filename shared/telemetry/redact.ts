// Secrets must never reach stdout, the telemetry tables or an OTLP backend, even
// when a caller logs a header or an error message that quotes one. Applied to log
// messages and attributes (logger.ts), span attributes, status messages and event
// attributes (to-span-row.ts, and the OTLP exporter wrapper).

const SECRET_KEY = /(authorization|api[_-]?key|secret|password|token)$/i
// JWTs (three base64url parts, header starting `eyJ`), bearer credentials, and
// `sk-…` API keys (OpenAI, Anthropic and others use that prefix).
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi
const SK_KEY = /\bsk-[A-Za-z0-9_-]{8,}/g
// Cheap pre-check so the common string (no secret) costs one scan, not three.
const MAYBE = /eyJ|bearer|sk-/i

export const REDACTED = '[REDACTED]'
const MAX_DEPTH = 8

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

export function redactString(s: string): string {
  if (!MAYBE.test(s)) return s
  return s.replace(JWT, REDACTED).replace(BEARER, `$1 ${REDACTED}`).replace(SK_KEY, REDACTED)
}

/** A copy with secrets scrubbed: values under secret-looking keys, and JWT/bearer/sk- strings anywhere. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value)
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value
  if (Array.isArray(value)) {
    // Numeric arrays (frame offsets) are the large ones: skip them untouched.
    return typeof value[0] === 'number' ? value : value.map((v) => redactValue(v, depth + 1))
  }
  if (value instanceof Date) return value
  return redactAttributes(value as Record<string, unknown>, depth + 1)
}

export function redactAttributes<T extends Record<string, unknown>>(attributes: T, depth = 0): T {
  let out: Record<string, unknown> | undefined
  for (const key in attributes) {
    const v = attributes[key]
    const r = isSecretKey(key) && v !== undefined && v !== null ? REDACTED : redactValue(v, depth)
    if (r !== v) (out ??= { ...attributes })[key] = r
  }
  return (out ?? attributes) as T
}
