// SSE health for the runbook's "toggle if SSE instability detected", from the rollups, and the alerts' history.
import type { Fragment } from 'postgres'
import type { AlertHistoryEntry, HealthWindow } from '../types.ts'
import type { Db } from './rollups.ts'

export const WINDOWS = [
  { label: '1 h', minutes: 60 },
  { label: '6 h', minutes: 360 },
  { label: '24 h', minutes: 1440 },
] as const

export interface HealthPoint {
  t: string
  streams: number
  without_done: number
  aborted: number
  errors: number
}

export interface Health {
  windows: HealthWindow[]
  /** Hourly, last 24 h. */
  points: HealthPoint[]
  slo_target: number
}

interface Row {
  status: string
  requests: number
  stalls: number
  /** Of `requests`: lost (their isolate died under them); status error. */
  lost: number
}

function toWindow(label: string, minutes: number, rows: Row[], sloTarget: number): HealthWindow {
  const sum = (pick: (r: Row) => number, only?: string[]) =>
    rows.filter((r) => !only || only.includes(r.status)).reduce((n, r) => n + pick(r), 0)
  const requests = sum((r) => r.requests)
  const errors = sum((r) => r.requests, ['error'])
  const aborted = sum((r) => r.requests, ['aborted'])
  const lost = sum((r) => r.lost)
  const errorRate = requests ? errors / requests : null
  return {
    label, minutes, requests,
    // A 4xx never opened a stream.
    streams: sum((r) => r.requests, ['ok', 'error', 'aborted']),
    without_done: errors + aborted,
    aborted, errors, lost,
    stalls: sum((r) => r.stalls),
    error_rate: errorRate,
    burn_rate: errorRate === null ? null : errorRate / (1 - sloTarget),
  }
}

const LOST = 'isolate_lost'
const lostSum = (sql: Db) => sql`(sum(requests) filter (where error_type = ${LOST}))::float8`

/**
 * Lost chats no live pipeline has stored as spans yet (telemetry.lost_requests), in the rollups'
 * shape: an error each. `key` groups them as the rollup query beside it does.
 */
function lostNotStored(sql: Db, key: Fragment, since: Date, now: Date) {
  return sql`
    select ${key}, 'error', count(*)::float8, 0::float8, count(*)::float8
    from telemetry.lost_requests
    where function = 'chat' and start_time >= ${since} and start_time <= ${now}
    group by 1`
}

/** Chat streams over the last 1 h, 6 h and 24 h, and hour by hour. */
export async function health(sql: Db, sloTarget: number, now = new Date()): Promise<Health> {
  const since = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 1440 * 60_000)
  const rows = await sql<{ t: Date; status: string; requests: number; stalls: number; lost: number }[]>`
    select date_bin('1 hour'::interval, bucket, 'epoch'::timestamptz) as t, status, sum(requests)::float8 as requests,
           sum(stalls)::float8 as stalls, ${lostSum(sql)} as lost
    from telemetry.rollup_minute
    where function = 'chat' and bucket >= ${since} and bucket <= ${now}
    group by 1, 2
    union all
    ${lostNotStored(sql, sql`date_bin('1 hour'::interval, start_time, 'epoch'::timestamptz)`, since, now)}`
  // Windows need minute precision at their start edge: read the minute rows for 1 h and 6 h.
  const minuteRows = await sql<{ age: number; status: string; requests: number; stalls: number; lost: number }[]>`
    select (extract(epoch from ${now}::timestamptz - bucket) / 60)::float8 as age, status,
           sum(requests)::float8 as requests, sum(stalls)::float8 as stalls, ${lostSum(sql)} as lost
    from telemetry.rollup_minute
    where function = 'chat' and bucket > ${new Date(now.getTime() - 361 * 60_000)} and bucket <= ${now}
    group by 1, 2
    union all
    ${lostNotStored(sql, sql`(extract(epoch from ${now}::timestamptz - date_trunc('minute', start_time)) / 60)::float8`, new Date(now.getTime() - 361 * 60_000), now)}`

  const windows = WINDOWS.map(({ label, minutes }) =>
    toWindow(label, minutes, minutes === 1440 ? rows : minuteRows.filter((r) => r.age < minutes), sloTarget))

  const hours = new Map<number, HealthPoint>()
  for (let i = 23; i >= 0; i--) {
    const t = Math.floor(now.getTime() / 3600_000) * 3600_000 - i * 3600_000
    hours.set(t, { t: new Date(t).toISOString(), streams: 0, without_done: 0, aborted: 0, errors: 0 })
  }
  for (const r of rows) {
    const p = hours.get(r.t.getTime())
    if (!p) continue
    if (r.status !== 'client_error') p.streams += r.requests
    if (r.status === 'error') { p.errors += r.requests; p.without_done += r.requests }
    if (r.status === 'aborted') { p.aborted += r.requests; p.without_done += r.requests }
  }
  return { windows, points: [...hours.values()], slo_target: sloTarget }
}

/** The latest firings of every alert rule, each with its resolution once there is one (telemetry.alert_events). */
export async function alertHistory(sql: Db, limit = 20): Promise<AlertHistoryEntry[]> {
  const rows = await sql<(Omit<AlertHistoryEntry, 'fired_at' | 'resolved_at'> & { fired_at: Date; resolved_at: Date | null })[]>`
    select f.id::text as firing_id, f.rule_name, f.metric, f.subject, f.at as fired_at, f.value, f.threshold, f.window_minutes,
           r.at as resolved_at, f.delivery
    from telemetry.alert_events f
    left join telemetry.alert_events r on r.firing_id = f.id
    where f.status = 'firing'
    order by f.at desc, f.id desc
    limit ${limit}`
  return rows.map((r) => ({ ...r, fired_at: r.fired_at.toISOString(), resolved_at: r.resolved_at?.toISOString() ?? null }))
}
