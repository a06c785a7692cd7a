// A conversation's turns: the request spans that carried one session id, in start order.
// A raw-span read of spans_requests_session_idx, bounded like the trace page (the same
// lookback) and by a turn limit. Relative imports only (bench/dashboard.ts may call it).
import type { RequestTotals, Session, StreamRow } from '../types.ts'
import type { Db } from './rollups.ts'
import { streamColumns } from './stream-columns.ts'
import { CLOCK_SKEW_MS, LOOKBACK_DAYS } from './traces.ts'

/** Turns listed at most; a chat session longer than this lists its first ones and says so. */
export const SESSION_TURN_LIMIT = 500

const STREAM_COLUMNS = streamColumns('s')

type Stored = Omit<StreamRow, 'start_time'> & { start_time: Date }

/** The totals with their error rate (null without requests). */
export function withErrorRate<T extends Omit<RequestTotals, 'error_rate'>>(t: T): T & { error_rate: number | null } {
  return { ...t, error_rate: t.requests ? t.errors / t.requests : null }
}

/** Sums of a list of requests. */
export function totalsOf(rows: readonly StreamRow[]): RequestTotals {
  const t = { requests: rows.length, errors: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 }
  for (const r of rows) {
    if (r.status === 'error') t.errors++
    t.input_tokens += r.input_tokens ?? 0
    t.output_tokens += r.output_tokens ?? 0
    t.cost_usd += r.cost_usd ?? 0
  }
  return withErrorRate(t)
}

/** The session's turns, oldest first; null when no request of the lookback carried the id. */
export async function getSession(sql: Db, sessionId: string, now = new Date(), limit = SESSION_TURN_LIMIT): Promise<Session | null> {
  const since = new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000)
  const until = new Date(now.getTime() + CLOCK_SKEW_MS)
  const rows = await sql<Stored[]>`
    select ${sql.unsafe(STREAM_COLUMNS)}
    from telemetry.spans_and_lost s
    where s.kind = 'server' and s.function is not null and s.session_id = ${sessionId}
      and s.start_time >= ${since} and s.start_time <= ${until}
    order by s.start_time, s.span_id
    limit ${limit + 1}`
  if (rows.length === 0) return null
  const turns = rows.slice(0, limit).map((r) => ({ ...r, start_time: r.start_time.toISOString() }))
  return {
    session_id: sessionId,
    user_ids: [...new Set(turns.flatMap((t) => (t.user_id ? [t.user_id] : [])))],
    turns,
    truncated: rows.length > limit,
    totals: totalsOf(turns),
  }
}
