// W3C Trace Context: one trace per logical chat, one parent span id per HTTP attempt, so the
// server's spans for the first request and every resume land in the same trace.

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes))
  let out = ''
  for (const b of buf) out += b.toString(16).padStart(2, '0')
  // All zeros is invalid for both ids (the spec says so); astronomically unlikely, cheap to avoid.
  return /^0+$/.test(out) ? randomHex(bytes) : out
}

export interface TraceContext { traceId: string; spanId: string; flags: string }

export function parseTraceparent(value: string): TraceContext | null {
  const m = TRACEPARENT.exec(value.trim().toLowerCase())
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null
  return { traceId: m[1]!, spanId: m[2]!, flags: m[3]! }
}

/** A new sampled trace: random 16-byte trace id, random 8-byte span id, flags 01. */
export function createTraceContext(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: '01' }
}

/** The header for one attempt: same trace, a fresh span id each time. */
export function toTraceparent(ctx: TraceContext, freshSpan = true): string {
  return `00-${ctx.traceId}-${freshSpan ? randomHex(8) : ctx.spanId}-${ctx.flags}`
}
