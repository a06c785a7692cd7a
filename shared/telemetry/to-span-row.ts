import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR } from './attributes.ts'
import { isoTime } from './encode.ts'
import { redactAttributes, redactString } from './redact.ts'
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

/** Integer columns: a fractional or out-of-range value must not fail the whole batch. */
function int(a: Attributes, key: string, max = 2_147_483_647): number | null {
  const v = num(a, key)
  return v === null ? null : Math.max(-max, Math.min(max, Math.round(v)))
}

function bool(a: Attributes, key: string): boolean | null {
  const v = a[key]
  return typeof v === 'boolean' ? v : null
}

function numbers(a: Attributes, key: string): number[] | null {
  const v = a[key]
  if (!Array.isArray(v)) return null
  return v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
}

// Stored in its own column; kept out of the jsonb so a long stream is not stored twice.
const NOT_IN_JSON = new Set<string>([ATTR.frameOffsetsMs])

function jsonAttributes(a: Attributes): Record<string, unknown> {
  let rest: Record<string, unknown> = a
  if (ATTR.frameOffsetsMs in a) {
    rest = {}
    for (const k in a) if (!NOT_IN_JSON.has(k)) rest[k] = a[k]
  }
  return redactAttributes(rest)
}

/** One finished span as one telemetry.spans row: promoted columns plus the rest in jsonb, secrets scrubbed. */
export function toSpanRow(span: ReadableSpan): SpanRow {
  const a = span.attributes
  const ctx = span.spanContext()
  const duration = hrToMs(span.duration)
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KIND[span.kind] ?? KIND[SpanKind.INTERNAL],
    start_time: new Date(hrToMs(span.startTime)),
    end_time: new Date(hrToMs(span.endTime)),
    duration_ms: Number.isFinite(duration) ? duration : 0,
    status_code: STATUS[span.status.code],
    status_message: span.status.message ? redactString(span.status.message) : null,
    function: str(a, ATTR.function),
    model: str(a, ATTR.requestModel),
    ttfb_ms: num(a, ATTR.ttfbMs),
    input_tokens: int(a, ATTR.inputTokens),
    output_tokens: int(a, ATTR.outputTokens),
    error_type: str(a, ATTR.errorType),
    user_id: str(a, ATTR.userId),
    session_id: str(a, ATTR.conversationId),
    attributes: jsonAttributes(a),
    events: span.events.length
      ? span.events.map((e) => ({ name: e.name, time: isoTime(hrToMs(e.time)), attributes: redactAttributes(e.attributes ?? {}) }))
      : null,
    frame_offsets_ms: numbers(a, ATTR.frameOffsetsMs),
    frames: int(a, ATTR.frames),
    bytes: int(a, ATTR.bytes),
    end_reason: str(a, ATTR.endReason),
    stalls: int(a, ATTR.stalls),
    max_gap_ms: num(a, ATTR.maxGapMs),
    usage_estimated: bool(a, ATTR.usageEstimated),
    http_status: int(a, ATTR.httpStatus, 32_767),
    run_id: str(a, ATTR.runId),
  }
}
