const TRACE_ID = /^[0-9a-f]{32}$/
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/

/** A W3C trace id as stored: 32 lowercase hex digits. */
export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value)
}

/**
 * The trace id in what an operator pastes: a bare trace id or a whole `traceparent`
 * (`00-<trace>-<span>-<flags>`), in any case, with stray whitespace. Null when neither.
 */
export function parseTraceInput(input: string): string | null {
  const value = input.trim().toLowerCase()
  if (TRACE_ID.test(value)) return value
  return TRACEPARENT.exec(value)?.[1] ?? null
}
