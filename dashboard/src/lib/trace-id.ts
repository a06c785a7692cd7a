const TRACE_ID = /^[0-9a-f]{32}$/
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A W3C trace id as stored: 32 lowercase hex digits. */
export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value)
}

/** A user or session id: a UUID (the chat function and the JWT's sub accept any case, and telemetry keeps it as sent). */
export function isUuid(value: string): boolean {
  return UUID.test(value.toLowerCase())
}

/**
 * The trace id in what an operator pastes: a bare trace id or a whole `traceparent`
 * (`00-<trace>-<span>-<flags>`, also as `traceparent: …`), in any case, with stray
 * whitespace. Null when neither.
 */
export function parseTraceInput(input: string): string | null {
  const value = input.trim().toLowerCase().replace(/^traceparent\s*:\s*/, '')
  if (TRACE_ID.test(value)) return value
  return TRACEPARENT.exec(value)?.[1] ?? null
}

export type LookupTarget = { kind: 'trace'; trace_id: string } | { kind: 'message'; message_id: string }

/** What the lookup box understands: a trace id, a traceparent, or a message id (a UUID). */
export function parseLookup(input: string): LookupTarget | null {
  const traceId = parseTraceInput(input)
  if (traceId) return { kind: 'trace', trace_id: traceId }
  const value = input.trim().toLowerCase()
  if (UUID.test(value)) return { kind: 'message', message_id: value }
  return null
}
