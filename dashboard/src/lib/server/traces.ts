// One trace: its spans, logs and stored messages. Relative imports only (bench/dashboard.ts).
import { ATTR } from '../../../../shared/telemetry/attributes.ts'
import { SPAN_SELECT, type StoredSpanRow } from '../../../../shared/telemetry/span-columns.ts'
import type { LogRow, MessageRow, SpanRow, StreamStats, Trace } from '../types.ts'
import type { Db } from './rollups.ts'

/**
 * How far back a trace is looked up. Bounding start_time on both sides lets Postgres prune
 * the daily partitions (older ones and the empty ones created ahead) instead of probing
 * the trace_id index of every one of them.
 */
export const LOOKBACK_DAYS = 30
/** Writers stamp spans with their own clock; allow it to run a little ahead of ours. */
export const CLOCK_SKEW_MS = 60 * 60_000

/** Logs can trail the spans a little (flushes after the response ends). */
const LOG_SLACK_MS = 5 * 60_000

type Stored<T, K extends keyof T> = Omit<T, K> & { [P in K]: Date }

const toSpanRow = (row: StoredSpanRow): SpanRow => ({
  ...row,
  start_time: row.start_time.toISOString(),
  end_time: row.end_time.toISOString(),
})

const toLogRow = (row: Stored<LogRow, 'time'>): LogRow => ({ ...row, time: row.time.toISOString() })

/** Every span of the trace in start order, its logs in time order, its messages; null when no span is stored. */
export async function getTrace(sql: Db, traceId: string, now = new Date()): Promise<Trace | null> {
  const since = new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000)
  const until = new Date(now.getTime() + CLOCK_SKEW_MS)
  const spans = await sql<StoredSpanRow[]>`
    select ${sql.unsafe(SPAN_SELECT)}
    from telemetry.spans_and_lost -- a lost request not stored as a span yet is in the trace too
    where trace_id = ${traceId} and start_time >= ${since} and start_time <= ${until}
    order by start_time, span_id
  `
  if (spans.length === 0) return null

  const first = spans[0]!.start_time.getTime()
  const last = spans.reduce((end, s) => Math.max(end, s.end_time.getTime()), first)
  const [logs, messages, streams] = await Promise.all([
    sql<Stored<LogRow, 'time'>[]>`
      select time, level, trace_id, span_id, message, attributes
      from telemetry.logs
      where trace_id = ${traceId}
        and time >= ${new Date(first - LOG_SLACK_MS)} and time <= ${new Date(last + LOG_SLACK_MS)}
      order by time`,
    sql<Stored<MessageRow, 'created_at'>[]>`
      select id::text as id, session_id::text as session_id, role, status, created_at
      from public.messages
      where trace_id = ${traceId}
      order by created_at, role desc`,
    streamStats(sql, traceId, spans),
  ])
  return {
    trace_id: traceId,
    spans: spans.map(toSpanRow),
    logs: logs.map(toLogRow),
    messages: messages.map((m) => ({ ...m, created_at: m.created_at.toISOString() })),
    streams,
  }
}

const ms = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/**
 * Each chat stream of the trace: the percentiles of its frame gaps and its tokens/s (by the
 * SQL that feeds the rollups, telemetry.frame_gaps and output_tokens_per_s), and the client's
 * timing from the beacon's span (its child; with one stream, also a beacon whose parent id
 * matches no span of the trace, as when the beacon could not find the request span).
 */
async function streamStats(sql: Db, traceId: string, spans: StoredSpanRow[]): Promise<StreamStats[]> {
  const streams = spans.filter((s) => s.kind === 'server' && s.function === 'chat')
  if (streams.length === 0) return []
  const rows = await sql<{ span_id: string; tokens_per_s: number | null; itl: (number | null)[] | null }[]>`
    select s.span_id, telemetry.output_tokens_per_s(s.frame_offsets_ms, s.output_tokens) as tokens_per_s,
           (select percentile_cont(array[0.5, 0.95, 0.99]::float8[]) within group (order by g)
            from unnest(telemetry.frame_gaps(s.frame_offsets_ms)) as g) as itl
    from telemetry.spans s
    where s.trace_id = ${traceId} and s.span_id in ${sql(streams.map((s) => s.span_id))}
      and s.start_time >= ${streams[0]!.start_time} and s.start_time <= ${streams.at(-1)!.start_time}`
  const computed = new Map(rows.map((r) => [r.span_id, r]))
  const ids = new Set(spans.map((s) => s.span_id))
  const beacons = spans.filter((s) => ms(s.attributes[ATTR.clientDurationMs]) !== null)
  return streams.map((s) => {
    const beacon = beacons.find((b) => b.parent_span_id === s.span_id)
      ?? (streams.length === 1 ? beacons.find((b) => !ids.has(b.parent_span_id ?? '')) : undefined)
    const r = computed.get(s.span_id)
    return {
      span_id: s.span_id,
      frames: s.frames ?? 0,
      itl_p50: r?.itl?.[0] ?? null,
      itl_p95: r?.itl?.[1] ?? null,
      itl_p99: r?.itl?.[2] ?? null,
      max_gap_ms: s.max_gap_ms,
      tokens_per_s: r?.tokens_per_s ?? null,
      ttfb_ms: s.ttfb_ms,
      client_ttfb_ms: ms(beacon?.attributes[ATTR.clientTtfbMs]),
      client_duration_ms: ms(beacon?.attributes[ATTR.clientDurationMs]),
    }
  })
}

/** The trace a stored message was written in; null for an unknown id or a message without one. */
export async function traceOfMessage(sql: Db, messageId: string): Promise<string | null> {
  const [row] = await sql<{ trace_id: string | null }[]>`
    select trace_id from public.messages where id = ${messageId}::uuid`
  return row?.trace_id ?? null
}
