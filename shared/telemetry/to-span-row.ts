import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR } from './attributes.ts'
import type { SpanRow } from './rows.ts'

const KIND = ['internal', 'server', 'client', 'producer', 'consumer']
const STATUS = { [SpanStatusCode.UNSET]: 'unset', [SpanStatusCode.OK]: 'ok', [SpanStatusCode.ERROR]: 'error' }

const hrToMs = (t: HrTime) => t[0] * 1e3 + t[1] / 1e6

function str(a: Attributes, key: string): string | null {
  const v = a[key]
  return v === undefined || v === null ? null : String(v)
}

function num(a: Attributes, key: string): number | null {
  const v = a[key]
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** One finished span as one telemetry.spans row: promoted columns plus the rest in jsonb. */
export function toSpanRow(span: ReadableSpan): SpanRow {
  const a = span.attributes
  const ctx = span.spanContext()
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KIND[span.kind] ?? KIND[SpanKind.INTERNAL],
    start_time: new Date(hrToMs(span.startTime)),
    end_time: new Date(hrToMs(span.endTime)),
    duration_ms: hrToMs(span.duration),
    status_code: STATUS[span.status.code],
    status_message: span.status.message ?? null,
    function: str(a, ATTR.function),
    model: str(a, ATTR.requestModel),
    ttfb_ms: num(a, ATTR.ttfbMs),
    input_tokens: num(a, ATTR.inputTokens),
    output_tokens: num(a, ATTR.outputTokens),
    error_type: str(a, ATTR.errorType),
    user_id: str(a, ATTR.userId),
    session_id: str(a, ATTR.conversationId),
    attributes: a as Record<string, unknown>,
    events: span.events.length
      ? span.events.map((e) => ({ name: e.name, time: new Date(hrToMs(e.time)).toISOString(), attributes: e.attributes ?? {} }))
      : null,
  }
}
