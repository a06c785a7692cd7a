// One user's requests within a window: totals over all of them (spend, error rate) and their
// sessions by last activity. A raw-span read of spans_requests_user_idx (user_id, start_time),
// bounded by the window and a session limit. Relative imports only (bench/dashboard.ts).
import type { TimeWindow } from '../range.ts'
import type { RequestTotals, UserActivity, UserSession } from '../types.ts'
import type { Db } from './rollups.ts'
import { withErrorRate } from './sessions.ts'

/** Sessions listed at most: the most recently active. */
export const USER_SESSION_LIMIT = 100

// Float8 sums, as the spend page's: numeric accumulation is slower for no digit anyone reads.
const TOTALS = `count(*)::float8 as requests,
  count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'error')::float8 as errors,
  coalesce(sum(input_tokens::float8), 0) as input_tokens, coalesce(sum(output_tokens::float8), 0) as output_tokens,
  coalesce(sum(cost_usd::float8), 0) as cost_usd`

type Sums = Omit<RequestTotals, 'error_rate'>
type StoredSession = Sums & { session_id: string | null; first_seen: Date; last_seen: Date }

/** The user's requests of the window: totals, and sessions most recent first (at most `limit`). */
export async function getUserActivity(sql: Db, userId: string, window: TimeWindow, limit = USER_SESSION_LIMIT): Promise<UserActivity> {
  const requests = () => sql`
    from telemetry.spans_and_lost
    where kind = 'server' and function is not null and user_id = ${userId}
      and start_time >= ${window.from} and start_time < ${window.to}`
  const [[totals], sessions] = await Promise.all([
    sql<(Sums & { sessions: number })[]>`
      select ${sql.unsafe(TOTALS)}, count(distinct session_id)::float8 as sessions ${requests()}`,
    sql<StoredSession[]>`
      select session_id, ${sql.unsafe(TOTALS)}, min(start_time) as first_seen, max(start_time) as last_seen
      ${requests()}
      group by session_id
      order by last_seen desc, session_id
      limit ${limit + 1}`,
  ])
  const listed: UserSession[] = sessions.slice(0, limit).map((s) => withErrorRate({
    ...s, first_seen: s.first_seen.toISOString(), last_seen: s.last_seen.toISOString(),
  }))
  return {
    user_id: userId,
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    totals: withErrorRate(totals!),
    sessions: listed,
    truncated: sessions.length > limit,
  }
}
