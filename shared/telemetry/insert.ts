import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres'
import { isoTime, jsonText, noNul, realArrayLiteral } from './encode.ts'
import type { LogRow, SpanRow } from './rows.ts'

// The statements that write telemetry: the pricing-and-rollup INSERT (one SQL, read
// either from the COPY-filled stage or from unnest()), and the statement path's logs
// insert. unnest() of column-wise arrays: one statement with a fixed parameter count,
// whatever the batch size — no 65k-parameter ceiling, and far less to parse than a
// VALUES list of rows × columns.

const iso = (d: Date) => isoTime(d.getTime())

/** The span columns in the order every source yields them (COPY, unnest, the stage). */
export const SPAN_COLUMNS = [
  'trace_id', 'span_id', 'parent_span_id', 'name', 'kind', 'start_time', 'end_time', 'duration_ms', 'status_code',
  'status_message', 'function', 'model', 'ttfb_ms', 'input_tokens', 'output_tokens', 'error_type', 'user_id', 'session_id',
  'attributes', 'events', 'frame_offsets_ms', 'frames', 'bytes', 'end_reason', 'stalls', 'max_gap_ms', 'usage_estimated',
  'http_status', 'run_id',
] as const satisfies readonly (keyof SpanRow)[]

/**
 * Span rows as an unnest() of column arrays: the statement path (PGlite, replays).
 * One array literal per row for real[]: unnest() of a 2-D array would flatten it.
 * Booleans go as text: postgres.js does not serialize boolean arrays.
 */
function unnestSource(sql: Sql | TransactionSql, rows: SpanRow[]) {
  const col = <T>(f: (r: SpanRow) => T) => rows.map(f)
  return sql`
    select * from unnest(
      ${col((r) => r.trace_id)}::text[], ${col((r) => r.span_id)}::text[], ${col((r) => r.parent_span_id)}::text[],
      ${col((r) => noNul(r.name))}::text[], ${col((r) => r.kind)}::text[],
      ${col((r) => iso(r.start_time))}::timestamptz[], ${col((r) => iso(r.end_time))}::timestamptz[],
      ${col((r) => r.duration_ms)}::float8[], ${col((r) => r.status_code)}::text[], ${col((r) => noNul(r.status_message))}::text[],
      ${col((r) => noNul(r.function))}::text[], ${col((r) => noNul(r.model))}::text[], ${col((r) => r.ttfb_ms)}::float8[],
      ${col((r) => r.input_tokens)}::int[], ${col((r) => r.output_tokens)}::int[], ${col((r) => noNul(r.error_type))}::text[],
      ${col((r) => noNul(r.user_id))}::text[], ${col((r) => noNul(r.session_id))}::text[],
      ${col((r) => jsonText(r.attributes))}::text[], ${col((r) => jsonText(r.events))}::text[],
      ${col((r) => realArrayLiteral(r.frame_offsets_ms))}::text[], ${col((r) => r.frames)}::int[], ${col((r) => r.bytes)}::int[],
      ${col((r) => noNul(r.end_reason))}::text[], ${col((r) => r.stalls)}::int[], ${col((r) => r.max_gap_ms)}::float8[],
      ${col((r) => (r.usage_estimated === null ? null : String(r.usage_estimated)))}::text[], ${col((r) => r.http_status)}::int[], ${col((r) => noNul(r.run_id))}::text[]
    ) as t(${sql.unsafe(SPAN_COLUMNS.join(', '))})`
}

/**
 * The stage a COPY fills: a temp table shaped like telemetry.spans, private to the
 * connection and emptied at every commit. Created inside the transaction that uses
 * it, so it also works behind a transaction-mode pooler (Supavisor).
 */
export const STAGE = 'pg_temp.span_stage'
export async function createStage(tx: TransactionSql) {
  await tx.unsafe(`set local client_min_messages = warning;
    create temp table if not exists span_stage (like telemetry.spans) on commit delete rows`)
}

/** Inserts span rows (priced, folded into the rollups: see insertSpansFrom). */
export function insertSpans(sql: Sql | TransactionSql, rows: SpanRow[]) {
  return insertSpansFrom(sql, unnestSource(sql, rows))
}

/** Inserts the rows a COPY put in the stage (createStage). */
export function insertStagedSpans(tx: TransactionSql) {
  return insertSpansFrom(tx, tx`select ${tx.unsafe(SPAN_COLUMNS.join(', '))} from ${tx.unsafe(STAGE)}`)
}

/**
 * Inserts spans, prices them and folds the request spans into rollup_minute,
 * rollup_hour and rollup_day_session, in ONE statement: spans and rollups cannot
 * disagree. (Every data-modifying CTE runs to completion even if nothing reads it.) `on conflict do nothing`
 * makes a retried batch (commit outcome unknown after a dropped connection)
 * neither duplicate spans nor count them twice in the rollups.
 */
function insertSpansFrom(sql: Sql | TransactionSql, source: PendingQuery<Row[]>) {
  return sql`
    with input as (${source}    ), ins as (
      insert into telemetry.spans (
        trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, status_message,
        function, model, ttfb_ms, input_tokens, output_tokens, error_type, user_id, session_id, attributes, events,
        frame_offsets_ms, frames, bytes, end_reason, stalls, max_gap_ms, usage_estimated, http_status, run_id, cost_usd)
      select i.trace_id, i.span_id, i.parent_span_id, i.name, i.kind, i.start_time, i.end_time, i.duration_ms, i.status_code, i.status_message,
        i.function, i.model, i.ttfb_ms, i.input_tokens, i.output_tokens, i.error_type, i.user_id, i.session_id,
        coalesce(i.attributes::jsonb, '{}'::jsonb), i.events::jsonb,
        i.frame_offsets_ms::real[], i.frames, i.bytes, i.end_reason, i.stalls, i.max_gap_ms, i.usage_estimated::boolean, i.http_status, i.run_id,
        case when i.input_tokens is not null or i.output_tokens is not null then
          (coalesce(i.input_tokens, 0) * p.input_usd_per_mtok + coalesce(i.output_tokens, 0) * p.output_usd_per_mtok) / 1000000
        end
      from input i
      left join lateral (
        select mp.input_usd_per_mtok, mp.output_usd_per_mtok from telemetry.model_prices mp
        where i.model is not null and mp.model = i.model and mp.effective_from <= i.start_time
        order by mp.effective_from desc limit 1
      ) p on true
      on conflict do nothing
      returning start_time, kind, function, model, status_code, http_status, end_reason, error_type, user_id,
        session_id, input_tokens, output_tokens, cost_usd, duration_ms, ttfb_ms, stalls, frames
    ), requests as (
      select date_trunc('minute', start_time) as bucket, function, coalesce(model, '') as model,
        telemetry.request_status(http_status, status_code, end_reason) as status,
        coalesce(error_type, '') as error_type, coalesce(user_id, '') as user_id,
        (start_time at time zone 'UTC')::date as day, coalesce(session_id, '') as session_id,
        input_tokens, output_tokens, cost_usd, duration_ms, ttfb_ms, stalls, frames
      from ins
      where kind = 'server' and function is not null
    ), hour as (
      insert into telemetry.rollup_hour as r (
        bucket, function, model, status, error_type, requests, errors, input_tokens, output_tokens, cost_usd,
        stream_ms, stalls, frames, ttfb_hist, duration_hist)
      select date_trunc('hour', bucket), function, model, status, error_type,
        count(*), count(*) filter (where status = 'error'),
        coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0),
        sum(duration_ms), coalesce(sum(stalls), 0), coalesce(sum(frames), 0),
        telemetry.hist_agg(ttfb_ms), telemetry.hist_agg(duration_ms)
      from requests
      group by 1, 2, 3, 4, 5
      order by 1, 2, 3, 4, 5
      on conflict (bucket, function, model, status, error_type) do update set
        requests = r.requests + excluded.requests,
        errors = r.errors + excluded.errors,
        input_tokens = r.input_tokens + excluded.input_tokens,
        output_tokens = r.output_tokens + excluded.output_tokens,
        cost_usd = r.cost_usd + excluded.cost_usd,
        stream_ms = r.stream_ms + excluded.stream_ms,
        stalls = r.stalls + excluded.stalls,
        frames = r.frames + excluded.frames,
        ttfb_hist = telemetry.hist_add(r.ttfb_hist, excluded.ttfb_hist),
        duration_hist = telemetry.hist_add(r.duration_hist, excluded.duration_hist)
      returning 1
    ), day_session as (
      insert into telemetry.rollup_day_session as r (day, session_id, user_id, model, requests, input_tokens, output_tokens, cost_usd)
      select day, session_id, user_id, model, count(*),
        coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0)
      from requests
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (day, session_id, user_id, model) do update set
        requests = r.requests + excluded.requests,
        input_tokens = r.input_tokens + excluded.input_tokens,
        output_tokens = r.output_tokens + excluded.output_tokens,
        cost_usd = r.cost_usd + excluded.cost_usd
      returning 1
    )
    insert into telemetry.rollup_minute as r (
      bucket, function, model, status, error_type, user_id, requests, errors, input_tokens, output_tokens, cost_usd,
      stream_ms, stalls, frames, ttfb_hist, duration_hist)
    select bucket, function, model, status, error_type, user_id,
      count(*), count(*) filter (where status = 'error'),
      coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0),
      sum(duration_ms), coalesce(sum(stalls), 0), coalesce(sum(frames), 0),
      telemetry.hist_agg(ttfb_ms), telemetry.hist_agg(duration_ms)
    from requests
    group by bucket, function, model, status, error_type, user_id
    -- A fixed order takes row locks in the same order in every writer: no deadlocks.
    order by bucket, function, model, status, error_type, user_id
    on conflict (bucket, function, model, status, error_type, user_id) do update set
      requests = r.requests + excluded.requests,
      errors = r.errors + excluded.errors,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      cost_usd = r.cost_usd + excluded.cost_usd,
      stream_ms = r.stream_ms + excluded.stream_ms,
      stalls = r.stalls + excluded.stalls,
      frames = r.frames + excluded.frames,
      ttfb_hist = telemetry.hist_add(r.ttfb_hist, excluded.ttfb_hist),
      duration_hist = telemetry.hist_add(r.duration_hist, excluded.duration_hist)`
}

export function insertLogs(sql: Sql, rows: LogRow[]) {
  const col = <T>(f: (r: LogRow) => T) => rows.map(f)
  return sql`
    insert into telemetry.logs (time, level, trace_id, span_id, message, attributes)
    select * from unnest(
      ${col((r) => iso(r.time))}::timestamptz[], ${col((r) => r.level)}::text[], ${col((r) => r.trace_id)}::text[],
      ${col((r) => r.span_id)}::text[], ${col((r) => noNul(r.message))}::text[], ${col((r) => jsonText(r.attributes))}::text[]::jsonb[])`
}
