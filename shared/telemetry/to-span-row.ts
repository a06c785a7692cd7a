import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR } from './attributes.ts'
import { isoTime } from './encode.ts'
import { redactAttributes, redactString } from './redact.ts'
import type { SpanRow } from './rows.ts'
import { SPAN_NULLS, type SqlType, WRITTEN_SPAN_COLUMNS } from './span-columns.ts'

const KIND = ['internal', 'server', 'client', 'producer', 'consumer']
const STATUS = { [SpanStatusCode.UNSET]: 'unset', [SpanStatusCode.OK]: 'ok', [SpanStatusCode.ERROR]: 'error' }

const hrToMs = (t: HrTime) => t[0] * 1e3 + t[1] / 1e6

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** Integer columns: a fractional or out-of-range value must not fail the whole batch. */
const int = (max: number) => (v: unknown) => {
  const n = num(v)
  return n === null ? null : Math.max(-max, Math.min(max, Math.round(n)))
}

/** How an attribute value becomes the value of a column of each SQL type. */
const READ: Partial<Record<SqlType, (v: unknown) => unknown>> = {
  text: (v) => (v === undefined || v === null ? null : String(v)),
  float8: num,
  real: num,
  int4: int(2_147_483_647),
  int2: int(32_767),
  bool: (v) => (typeof v === 'boolean' ? v : null),
  'real[]': (v) => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) : null),
}

/** The columns promoted from attributes (span-columns.ts), each with its reader. */
const PROMOTED = WRITTEN_SPAN_COLUMNS.filter((c) => c.attr !== undefined).map((c) => {
  const read = READ[c.type]
  if (!read) throw new Error(`span column ${c.name}: no attribute reader for ${c.type}`)
  return { name: c.name, attr: c.attr!, read }
})

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
  const row: SpanRow = {
    ...SPAN_NULLS,
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
    attributes: jsonAttributes(a),
    events: span.events.length
      ? span.events.map((e) => ({ name: e.name, time: isoTime(hrToMs(e.time)), attributes: redactAttributes(e.attributes ?? {}) }))
      : null,
  }
  // In place: every column is already there (SPAN_NULLS).
  const promoted = row as Record<string, unknown>
  for (const c of PROMOTED) promoted[c.name] = c.read(a[c.attr])
  return row
}
