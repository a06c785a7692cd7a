import type { Sql } from 'postgres'
import type { LogRow, SpanRow, Trace } from '$lib/types'

/**
 * How far back a trace is looked up. Bounding start_time on both sides lets Postgres prune
 * the daily partitions (older ones and the empty ones created ahead) instead of probing
 * the trace_id index of every one of them.
 */
const LOOKBACK_DAYS = 30
/** Writers stamp spans with their own clock; allow it to run a little ahead of ours. */
const CLOCK_SKEW_MS = 60 * 60_000

/** Logs can trail the spans a little (flushes after the response ends). */
const LOG_SLACK_MS = 5 * 60_000

type Stored<T, K extends keyof T> = Omit<T, K> & { [P in K]: Date }

const toSpanRow = (row: Stored<SpanRow, 'start_time' | 'end_time'>): SpanRow => ({
  ...row,
  start_time: row.start_time.toISOString(),
  end_time: row.end_time.toISOString(),
})

const toLogRow = (row: Stored<LogRow, 'time'>): LogRow => ({ ...row, time: row.time.toISOString() })

/** Every span of the trace in start order, and its logs in time order; null when no span is stored. */
export async function getTrace(sql: Sql, traceId: string, now = new Date()): Promise<Trace | null> {
  const since = new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000)
  const until = new Date(now.getTime() + CLOCK_SKEW_MS)
  const spans = await sql<Stored<SpanRow, 'start_time' | 'end_time'>[]>`
    select trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms,
           status_code, status_message, function, model, ttfb_ms, input_tokens, output_tokens,
           error_type, user_id, session_id, attributes, events
    from telemetry.spans
    where trace_id = ${traceId} and start_time >= ${since} and start_time <= ${until}
    order by start_time, span_id
  `
  if (spans.length === 0) return null

  const first = spans[0]!.start_time.getTime()
  const last = spans.reduce((end, s) => Math.max(end, s.end_time.getTime()), first)
  const logs = await sql<Stored<LogRow, 'time'>[]>`
    select time, level, trace_id, span_id, message, attributes
    from telemetry.logs
    where trace_id = ${traceId}
      and time >= ${new Date(first - LOG_SLACK_MS)} and time <= ${new Date(last + LOG_SLACK_MS)}
    order by time
  `
  return { trace_id: traceId, spans: spans.map(toSpanRow), logs: logs.map(toLogRow) }
}
