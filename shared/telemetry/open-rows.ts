import type { Sql, TransactionSql } from 'postgres'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR } from './attributes.ts'
import { isoTime, jsonText } from './encode.ts'
import { redactAttributes } from './redact.ts'
import type { SpanRow } from './rows.ts'
import { SPAN_COLUMNS } from './span-columns.ts'

// The rows that put a request on record while it runs (migration 20261205000300): one in
// telemetry.open_requests per request span still open at a batch, the instance's heartbeat in
// telemetry.instances, and the lost requests other instances left behind.

/** A telemetry.open_requests row. */
export interface OpenRow {
  trace_id: string
  span_id: string
  parent_span_id: string | null
  name: string
  start_time: string
  function: string | null
  model: string | null
  user_id: string | null
  session_id: string | null
  run_id: string | null
  attributes: Record<string, unknown>
}

/** This process as the database knows it: its id, and how long after its last heartbeat it counts as dead. */
export interface Instance {
  id: string
  lostAfterMs: number
}

/** How a span is named in the registry and in open_requests' key. */
export const spanKey = (traceId: string, spanId: string) => `${traceId}/${spanId}`
const splitKey = (key: string) => key.split('/') as [string, string]

const text = (v: unknown) => (v === undefined || v === null ? null : String(v))
const hrToMs = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6

/** The request span as it is now (attributes set since its start included), secrets scrubbed. */
export function toOpenRow(span: ReadableSpan): OpenRow {
  const a = span.attributes
  const ctx = span.spanContext()
  return {
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    // The same millisecond as its span row's start_time: the two share telemetry.spans' key.
    start_time: isoTime(hrToMs(span.startTime)),
    function: text(a[ATTR.function]),
    model: text(a[ATTR.requestModel]),
    user_id: text(a[ATTR.userId]),
    session_id: text(a[ATTR.conversationId]),
    run_id: text(a[ATTR.runId]),
    attributes: redactAttributes(a),
  }
}

function beat(sql: Sql, me: Instance) {
  return sql`
    insert into telemetry.instances as i (instance_id, expires_at)
    values (${me.id}, now() + ${me.lostAfterMs} * interval '1 millisecond')
    on conflict (instance_id) do update set seen_at = now(), expires_at = excluded.expires_at`
}

/** Writes open rows and this instance's heartbeat, in one statement. */
export async function writeOpenRows(sql: Sql, me: Instance, rows: OpenRow[]): Promise<void> {
  await sql`
    with beat as (${beat(sql, me)}), ins as (
      insert into telemetry.open_requests (
        trace_id, span_id, parent_span_id, name, start_time, function, model, user_id, session_id, run_id, attributes, instance_id)
      select trace_id, span_id, parent_span_id, name, start_time, function, model, user_id, session_id, run_id,
        coalesce(attributes, '{}'::jsonb), ${me.id}
      from jsonb_to_recordset(${jsonText(rows)}::text::jsonb) as t(
        trace_id text, span_id text, parent_span_id text, name text, start_time timestamptz, function text, model text,
        user_id text, session_id text, run_id text, attributes jsonb)
      on conflict do nothing
    )
    select 1`
}

/**
 * The heartbeat; also forgets instances dead for an hour that left nothing open, and returns
 * (as span rows) the lost requests of other instances, for this pipeline to store as spans.
 */
export async function beatAndFindLost(sql: Sql, me: Instance, limit = 200): Promise<SpanRow[]> {
  return await sql<SpanRow[]>`
    with beat as (${beat(sql, me)}), tidy as (
      delete from telemetry.instances i
      where i.expires_at < now() - interval '1 hour' and i.instance_id <> ${me.id}
        and not exists (select 1 from telemetry.open_requests o where o.instance_id = i.instance_id)
    )
    select ${sql.unsafe(SPAN_COLUMNS.join(', '))} from telemetry.lost_requests
    where instance_id <> ${me.id}
    order by start_time
    limit ${limit}`
}

/** Deletes the open rows of spans whose rows this transaction writes. */
export async function supersedeOpenRows(tx: TransactionSql | Sql, keys: string[]): Promise<void> {
  if (keys.length === 0) return
  const pairs = keys.map(splitKey)
  await tx`
    delete from telemetry.open_requests
    where (trace_id, span_id) in (select * from unnest(${pairs.map((p) => p[0])}::text[], ${pairs.map((p) => p[1])}::text[]))`
}
