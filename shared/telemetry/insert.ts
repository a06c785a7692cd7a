import type { Sql } from 'postgres'
import type { LogRow, SpanRow } from './rows.ts'

// Column-wise arrays through unnest(): one statement with a fixed parameter count,
// whatever the batch size — no 65k-parameter ceiling, and far less to parse than
// a VALUES list of rows × columns.

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v))
const iso = (d: Date) => d.toISOString()

export function insertSpans(sql: Sql, rows: SpanRow[]) {
  const col = <T>(f: (r: SpanRow) => T) => rows.map(f)
  return sql`
    insert into telemetry.spans (
      trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms,
      status_code, status_message, function, model, ttfb_ms, input_tokens, output_tokens,
      error_type, user_id, session_id, attributes, events)
    select * from unnest(
      ${col((r) => r.trace_id)}::text[], ${col((r) => r.span_id)}::text[], ${col((r) => r.parent_span_id)}::text[],
      ${col((r) => r.name)}::text[], ${col((r) => r.kind)}::text[],
      ${col((r) => iso(r.start_time))}::timestamptz[], ${col((r) => iso(r.end_time))}::timestamptz[],
      ${col((r) => r.duration_ms)}::float8[], ${col((r) => r.status_code)}::text[], ${col((r) => r.status_message)}::text[],
      ${col((r) => r.function)}::text[], ${col((r) => r.model)}::text[], ${col((r) => r.ttfb_ms)}::float8[],
      ${col((r) => r.input_tokens)}::int[], ${col((r) => r.output_tokens)}::int[], ${col((r) => r.error_type)}::text[],
      ${col((r) => r.user_id)}::text[], ${col((r) => r.session_id)}::text[],
      ${col((r) => json(r.attributes))}::text[]::jsonb[], ${col((r) => json(r.events))}::text[]::jsonb[])`
}

export function insertLogs(sql: Sql, rows: LogRow[]) {
  const col = <T>(f: (r: LogRow) => T) => rows.map(f)
  return sql`
    insert into telemetry.logs (time, level, trace_id, span_id, message, attributes)
    select * from unnest(
      ${col((r) => iso(r.time))}::timestamptz[], ${col((r) => r.level)}::text[], ${col((r) => r.trace_id)}::text[],
      ${col((r) => r.span_id)}::text[], ${col((r) => r.message)}::text[], ${col((r) => json(r.attributes))}::text[]::jsonb[])`
}
