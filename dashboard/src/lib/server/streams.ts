import type { Sql } from 'postgres'
import { ATTR } from '$shared/telemetry/attributes'
import type { StreamRow, StreamSummary, TtfbPoint } from '$lib/types'

export interface TimeRange {
  from: Date
  to: Date
}

/** The last `minutes` whole minutes up to now, the current one included. */
export function lastMinutes(minutes: number, now = new Date()): TimeRange {
  const end = new Date(now)
  end.setUTCSeconds(0, 0)
  return { from: new Date(end.getTime() - (minutes - 1) * 60_000), to: now }
}

/**
 * Most recent streams first. A stream is the chat function's server span; it is not
 * necessarily a root (a caller may send a traceparent). Every query here is bounded by
 * the range so that old partitions are pruned.
 */
export async function recentStreams(sql: Sql, range: TimeRange, limit: number): Promise<StreamRow[]> {
  const rows = await sql<(Omit<StreamRow, 'start_time'> & { start_time: Date })[]>`
    select trace_id, span_id, start_time, duration_ms, status_code,
           coalesce(model, attributes ->> ${ATTR.requestModel}) as model,
           ttfb_ms, input_tokens, output_tokens, error_type, user_id,
           attributes ->> ${ATTR.endReason} as end_reason,
           case when jsonb_typeof(attributes -> ${ATTR.frames}) = 'number'
                then (attributes ->> ${ATTR.frames})::float8::int end as frames,
           case when jsonb_typeof(attributes -> ${ATTR.httpStatus}) = 'number'
                then (attributes ->> ${ATTR.httpStatus})::float8::int end as http_status
    from telemetry.spans
    where kind = 'server' and function = 'chat'
      and start_time >= ${range.from} and start_time <= ${range.to}
    order by start_time desc, span_id
    limit ${limit}
  `
  return rows.map((row) => ({ ...row, start_time: row.start_time.toISOString() }))
}

/** p50 and p95 TTFB per minute of the range, one point per minute, empty minutes included. */
export async function ttfbPerMinute(sql: Sql, range: TimeRange): Promise<TtfbPoint[]> {
  const rows = await sql<{ minute: Date; p50: number | null; p95: number | null; streams: number }[]>`
    select m.minute, a.p50, a.p95, coalesce(a.streams, 0) as streams
    from generate_series(date_trunc('minute', ${range.from}::timestamptz),
                         date_trunc('minute', ${range.to}::timestamptz),
                         interval '1 minute') as m(minute)
    left join (
      select date_trunc('minute', start_time) as minute,
             percentile_cont(0.5) within group (order by ttfb_ms) as p50,
             percentile_cont(0.95) within group (order by ttfb_ms) as p95,
             count(*)::int as streams
      from telemetry.spans
      where kind = 'server' and function = 'chat' and ttfb_ms is not null
        and start_time >= ${range.from} and start_time <= ${range.to}
      group by 1
    ) a using (minute)
    order by m.minute
  `
  return rows.map((row) => ({ ...row, minute: row.minute.toISOString() }))
}

/**
 * Totals for the range. A stream failed when it ended in error or was rejected; a client
 * that hung up is not a failure of ours.
 */
export async function streamSummary(sql: Sql, range: TimeRange): Promise<StreamSummary> {
  const [row] = await sql<StreamSummary[]>`
    select count(*)::int as streams,
           (count(*) filter (where error_type is not null and error_type <> 'client_abort'))::int as failed,
           percentile_cont(0.5) within group (order by ttfb_ms) as p50,
           percentile_cont(0.95) within group (order by ttfb_ms) as p95
    from telemetry.spans
    where kind = 'server' and function = 'chat'
      and start_time >= ${range.from} and start_time <= ${range.to}
  `
  return row ?? { streams: 0, failed: 0, p50: null, p95: null }
}
