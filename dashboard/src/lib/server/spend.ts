// The product manager's page: tokens and cost by model over time, who spends, per day.
import type { Filters } from '../filters.ts'
import type { TimeWindow } from '../range.ts'
import type { SpendDay, SpendPoint, SpendTotals, TopSession, TopUser } from '../types.ts'
import { alignWindow, interval, rollupFilters, rollupSource, type Db, type Reader } from './rollups.ts'

const DAY = 86_400_000

// Summed as float8: sum(bigint) and sum(numeric) accumulate in numeric, several times slower
// over a month of rows, for no digit anyone reads.
const SUMS = (sql: Db) => sql`
  sum(requests)::float8 as requests, sum(input_tokens::float8) as input_tokens,
  sum(output_tokens::float8) as output_tokens, sum(cost_usd::float8) as cost_usd`

export interface Spend {
  points: SpendPoint[]
  models: string[]
  totals: SpendTotals
  top_users: TopUser[]
  top_sessions: TopSession[]
  days: SpendDay[]
  step_ms: number
  from: string
  to: string
}

/** Tokens and cost per chart bucket and model (rollups). */
export async function spendSeries(sql: Db, window: TimeWindow, stepMs: number, filters: Filters): Promise<SpendPoint[]> {
  const source = rollupSource(stepMs, filters)
  const w = alignWindow(window, source.unit_ms)
  const rows = await sql<(Omit<SpendPoint, 't'> & { t: Date })[]>`
    select date_bin(${interval(stepMs)}::interval, bucket, 'epoch'::timestamptz) as t, model, ${SUMS(sql)}
    from ${sql(source.table)}
    where bucket >= ${w.from} and bucket < ${w.to} ${rollupFilters(sql, filters)}
    group by 1, 2
    order by 1, 2`
  return rows.map((r) => ({ ...r, t: r.t.toISOString() }))
}

/** One row per UTC day and model: the table and its CSV export. */
export async function spendByDay(sql: Db, window: TimeWindow, filters: Filters): Promise<SpendDay[]> {
  const source = rollupSource(DAY, filters)
  const w = alignWindow(window, source.unit_ms)
  const rows = await sql<(Omit<SpendDay, 'day'> & { day: Date })[]>`
    select date_bin('1 day'::interval, bucket, 'epoch'::timestamptz) as day, model, ${SUMS(sql)}
    from ${sql(source.table)}
    where bucket >= ${w.from} and bucket < ${w.to} ${rollupFilters(sql, filters)}
    group by 1, 2
    order by 1 desc, cost_usd desc, model`
  return rows.map((r) => ({ ...r, day: r.day.toISOString().slice(0, 10) }))
}

/**
 * Whether the top lists can read the per-day session rollup: when the window is longer than two
 * days (it then counts whole UTC days) and no filter needs a column it lacks.
 */
function useDaySessions(window: TimeWindow, filters: Filters): boolean {
  if (filters.function || filters.status) return false
  return window.to.getTime() - window.from.getTime() > 2 * DAY
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10)

type SessionSums = Omit<TopSession, 'last_seen'> & { last_seen: Date }

/** Users by cost, from the minute rollup (it carries user_id) or the per-day session rollup. */
export async function topUsers(sql: Db, window: TimeWindow, filters: Filters, limit = 10): Promise<TopUser[]> {
  if (useDaySessions(window, filters)) {
    return sql<TopUser[]>`
      select user_id, ${SUMS(sql)}
      from telemetry.rollup_day_session
      where day >= ${dayOf(window.from)}::date and day <= ${dayOf(window.to)}::date and user_id <> ''
        ${filters.model ? sql`and model = ${filters.model}` : sql``}
        ${filters.user ? sql`and user_id = ${filters.user}` : sql``}
      group by user_id
      order by cost_usd desc, requests desc, user_id
      limit ${limit}`
  }
  const w = alignWindow(window, 60_000)
  return sql<TopUser[]>`
    select user_id, ${SUMS(sql)}
    from telemetry.rollup_minute
    where bucket >= ${w.from} and bucket < ${w.to} and user_id <> '' ${rollupFilters(sql, filters)}
    group by user_id
    order by cost_usd desc, requests desc, user_id
    limit ${limit}`
}

/**
 * Sessions by cost. The rollups have no session, so this reads request spans (an index-only
 * scan of spans_requests_time_idx, bounded by the window) unless useDaySessions says the
 * per-day session rollup can answer.
 */
export async function topSessions(sql: Db, window: TimeWindow, filters: Filters, limit = 10): Promise<TopSession[]> {
  if (useDaySessions(window, filters) && !filters.model && !filters.user) {
    const top = await topSessionsByTotal(sql, window, limit)
    if (top) return top
  }
  if (useDaySessions(window, filters)) {
    const rows = await sql<SessionSums[]>`
      select session_id, min(user_id collate "C") as user_id, ${SUMS(sql)}, (max(day)::timestamp at time zone 'UTC') as last_seen
      from telemetry.rollup_day_session
      where day >= ${dayOf(window.from)}::date and day <= ${dayOf(window.to)}::date and session_id <> ''
        ${filters.model ? sql`and model = ${filters.model}` : sql``}
        ${filters.user ? sql`and user_id = ${filters.user}` : sql``}
      group by session_id
      order by cost_usd desc, requests desc, session_id
      limit ${limit}`
    return rows.map((r) => ({ ...r, last_seen: r.last_seen.toISOString() }))
  }
  const status = filters.status
    ? sql`and telemetry.request_status(http_status, status_code, end_reason) = ${filters.status}`
    : sql``
  const rows = await sql<SessionSums[]>`
    select session_id, min(user_id collate "C") as user_id, count(*)::float8 as requests,
           coalesce(sum(input_tokens::float8), 0) as input_tokens, coalesce(sum(output_tokens::float8), 0) as output_tokens,
           coalesce(sum(cost_usd::float8), 0) as cost_usd, max(start_time) as last_seen
    from telemetry.spans
    where kind = 'server' and function is not null and session_id is not null
      and start_time >= ${window.from} and start_time < ${window.to}
      ${filters.function ? sql`and function = ${filters.function}` : sql``}
      ${filters.model ? sql`and model = ${filters.model}` : sql``}
      ${filters.user ? sql`and user_id = ${filters.user}` : sql``}
      ${status}
    group by session_id
    order by cost_usd desc, requests desc, session_id
    limit ${limit}`
  return rows.map((r) => ({ ...r, user_id: r.user_id ?? '', last_seen: r.last_seen.toISOString() }))
}

/** Candidates the session rollup is read for, per session asked. */
const CANDIDATES = 5

/**
 * Top sessions from rollup_session: the sessions seen in the window with the largest totals,
 * each total replaced by the session's cost within the window where it started before the
 * window or ends after it (rollup_day_session). A session not read has a total, so a cost in
 * the window, no larger than the last one read: when the answer's last session costs more
 * than that, the answer is exact; otherwise null (the caller sums rollup_day_session).
 */
export async function topSessionsByTotal(sql: Db, window: TimeWindow, limit: number): Promise<TopSession[] | null> {
  const from = dayOf(window.from)
  const to = dayOf(window.to)
  const read = limit * CANDIDATES
  const candidates = await sql<(SessionSums & { whole: boolean })[]>`
    select session_id, user_id, requests::float8 as requests, input_tokens::float8 as input_tokens,
           output_tokens::float8 as output_tokens, cost_usd::float8 as cost_usd,
           (last_day::timestamp at time zone 'UTC') as last_seen, first_day >= ${from}::date and last_day <= ${to}::date as whole
    from telemetry.rollup_session s
    where last_day >= ${from}::date and first_day <= ${to}::date
    order by s.cost_usd desc, s.requests desc, s.session_id -- the index's order, not the output's float8
    limit ${read}`
  const partial = candidates.filter((c) => !c.whole).map((c) => c.session_id)
  const inWindow = partial.length === 0 ? [] : await sql<SessionSums[]>`
    select session_id, min(user_id collate "C") as user_id, ${SUMS(sql)}, (max(day)::timestamp at time zone 'UTC') as last_seen
    from telemetry.rollup_day_session
    where session_id in ${sql(partial)} and day >= ${from}::date and day <= ${to}::date
    group by session_id`
  const exact = new Map(inWindow.map((r) => [r.session_id, r]))
  const sessions = candidates
    .map(({ whole, ...c }) => (whole ? c : exact.get(c.session_id)))
    .filter((c): c is SessionSums => c !== undefined)
    .sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests || (a.session_id < b.session_id ? -1 : 1))
    .slice(0, limit)
  const bound = candidates.length === read ? candidates.at(-1)!.cost_usd : -Infinity
  if (sessions.length < Math.min(limit, candidates.length) || (sessions.at(-1)?.cost_usd ?? -Infinity) <= bound) return null
  return sessions.map((r) => ({ ...r, last_seen: r.last_seen.toISOString() }))
}

/** Everything the spend page shows; the four parts in parallel, each in its own transaction. */
export async function spend(read: Reader, window: TimeWindow, stepMs: number, filters: Filters): Promise<Spend> {
  const [points, days, top_users, top_sessions] = await Promise.all([
    read((sql) => spendSeries(sql, window, stepMs, filters)),
    read((sql) => spendByDay(sql, window, filters)),
    read((sql) => topUsers(sql, window, filters)),
    read((sql) => topSessions(sql, window, filters)),
  ])
  const totals: SpendTotals = { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 }
  const weight = new Map<string, { cost: number; tokens: number }>()
  for (const d of days) {
    totals.requests += d.requests
    totals.input_tokens += d.input_tokens
    totals.output_tokens += d.output_tokens
    totals.cost_usd += d.cost_usd
    const w = weight.get(d.model) ?? { cost: 0, tokens: 0 }
    weight.set(d.model, { cost: w.cost + d.cost_usd, tokens: w.tokens + d.input_tokens + d.output_tokens })
  }
  // Rejected requests have no model and spend nothing: no empty series in the charts.
  const models = [...weight.entries()]
    .filter(([, w]) => w.cost > 0 || w.tokens > 0)
    .sort((a, b) => b[1].cost - a[1].cost || b[1].tokens - a[1].tokens || (a[0] < b[0] ? -1 : 1))
    .map(([m]) => m)
  return { points, models, totals, top_users, top_sessions, days, step_ms: stepMs, from: window.from.toISOString(), to: window.to.toISOString() }
}

