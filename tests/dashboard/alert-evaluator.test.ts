// telemetry.evaluate_alerts (migrations/20261207000300_alert_rules.sql) on real spans with chosen
// timestamps, the clock moved by passing `now`: each metric's value, the minimum volume, one event
// at firing and one at resolution, the cooldown, per-user subjects, disabling and deleting a firing
// rule, one evaluation at a time, and who may touch the tables.
import type { Sql } from 'postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { ALERT_METRIC_NAMES, firingAlerts, type AlertRuleInput } from '../../shared/alert-rules.ts'
import { burst, insertRequests, minutes } from './alert-spans.ts'

const B = new Date(Math.floor(Date.now() / 60_000) * 60_000)
let db: TestDatabase | undefined

afterEach(async () => {
  await db?.drop()
  db = undefined
})

async function withRule(rule: Partial<AlertRuleInput> & Pick<AlertRuleInput, 'metric' | 'threshold'>): Promise<{ sql: Sql; id: number }> {
  db = await freshDatabase()
  const row = { name: rule.metric, window_minutes: 5, min_requests: 1, cooldown_minutes: 0, enabled: true, ...rule }
  const [{ id }] = await db.sql<{ id: number }[]>`insert into telemetry.alert_rules ${db.sql(row)} returning id`
  return { sql: db.sql, id }
}

interface Transition { status: string; subject: string; value: number; requests: number; firing_id: string | null; id: string }
const evaluate = (sql: Sql, now: Date) =>
  sql<Transition[]>`select id::text, status, subject, value, requests, firing_id::text from telemetry.evaluate_alerts(${now})`
const state = async (sql: Sql, id: number, subject = '') =>
  (await sql<{ firing: boolean; value: number | null; requests: number }[]>`
    select firing, value, requests from telemetry.alert_state where rule_id = ${id} and subject = ${subject}`)[0]

describe('evaluate_alerts', () => {
  it('fires an error-rate rule once it has enough requests, stays quiet while it lasts, resolves once', async () => {
    const { sql, id } = await withRule({ metric: 'error_rate', threshold: 0.2, min_requests: 10 })
    await insertRequests(sql, burst(minutes(B, -2), 8, 4))
    // Half failed, but 8 requests are fewer than the rule's 10.
    expect(await evaluate(sql, B)).toEqual([])
    expect(await state(sql, id)).toEqual({ firing: false, value: 0.5, requests: 8 })
    await insertRequests(sql, burst(minutes(B, -1), 4, 0))
    const [fired, ...more] = await evaluate(sql, B)
    expect(more).toEqual([])
    expect(fired).toMatchObject({ status: 'firing', subject: '', requests: 12, firing_id: null })
    expect(fired!.value).toBeCloseTo(4 / 12)
    expect(await evaluate(sql, minutes(B, 1))).toEqual([])
    // Six minutes on, the 5-minute window holds none of them.
    const [resolved] = await evaluate(sql, minutes(B, 6))
    expect(resolved).toMatchObject({ status: 'resolved', firing_id: fired!.id, requests: 0 })
    expect(await evaluate(sql, minutes(B, 7))).toEqual([])
    expect(await state(sql, id)).toMatchObject({ firing: false })
  })

  it('keeps a resolved rule quiet for its cooldown, then fires again', async () => {
    const { sql } = await withRule({ metric: 'error_rate', threshold: 0.5, window_minutes: 10, cooldown_minutes: 30 })
    await insertRequests(sql, [...burst(minutes(B, -1), 10, 10), ...burst(minutes(B, 13), 10, 10), ...burst(minutes(B, 40), 10, 10)])
    expect((await evaluate(sql, B)).map((t) => t.status)).toEqual(['firing'])
    expect((await evaluate(sql, minutes(B, 11))).map((t) => t.status)).toEqual(['resolved'])
    // Breaching again 4 and 9 minutes after resolving: within the 30-minute cooldown.
    expect(await evaluate(sql, minutes(B, 15))).toEqual([])
    expect(await evaluate(sql, minutes(B, 20))).toEqual([])
    // 31 minutes after resolving.
    expect((await evaluate(sql, minutes(B, 42))).map((t) => t.status)).toEqual(['firing'])
  })

  it('computes TTFB p95 over chat streams only', async () => {
    const { sql, id } = await withRule({ metric: 'ttfb_p95', threshold: 1800, min_requests: 20 })
    await insertRequests(sql, [
      ...Array.from({ length: 20 }, (_, i) => ({ at: minutes(B, -1), ttfb: 100 * (i + 1) })),
      { at: minutes(B, -1), ttfb: 60_000, function: 'embed' as const },
    ])
    const [fired] = await evaluate(sql, B)
    // percentile_cont over 100…2000: 95% of the way from the first to the last is 1905.
    expect(fired).toMatchObject({ status: 'firing', requests: 20 })
    expect(fired!.value).toBeCloseTo(1905)
    expect((await state(sql, id))!.value).toBeCloseTo(1905)
  })

  it('computes ITL p95 from the gaps between consecutive frames', async () => {
    const { sql } = await withRule({ metric: 'itl_p95', threshold: 1000, min_requests: 10 })
    await insertRequests(sql, [
      // 27 gaps of 100 ms after a first frame at 500 ms: the time to it is TTFB, not ITL.
      ...Array.from({ length: 9 }, () => ({ at: minutes(B, -1), frames: [500, 600, 700, 800] })),
      { at: minutes(B, -1), frames: [200, 3200, 6200, 9200] },
      // One frame: no gap, not counted.
      { at: minutes(B, -1), frames: [200] },
    ])
    const [fired] = await evaluate(sql, B)
    // 30 gaps, the top three 3000 ms: p95 lies among them.
    expect(fired).toMatchObject({ status: 'firing', requests: 10, value: 3000 })
  })

  it('computes the stall rate over chat streams, leaving out refused requests', async () => {
    const { sql } = await withRule({ metric: 'stall_rate', threshold: 0.25 })
    await insertRequests(sql, [
      ...burst(minutes(B, -1), 7, 0), ...burst(minutes(B, -1), 3, 0, { stalls: 1 }),
      ...burst(minutes(B, -1), 5, 0, { http: 429, frames: [] }),
    ])
    const [fired] = await evaluate(sql, B)
    expect(fired).toMatchObject({ status: 'firing', requests: 10 })
    expect(fired!.value).toBeCloseTo(0.3)
  })

  it('sums spend over a rolling window', async () => {
    const { sql } = await withRule({ metric: 'spend', threshold: 20, window_minutes: 1440 })
    await insertRequests(sql, [...burst(minutes(B, -1400), 20, 0), ...burst(minutes(B, -10), 20, 0)])
    const [fired] = await evaluate(sql, B)
    expect(fired).toMatchObject({ status: 'firing', requests: 40 })
    expect(fired!.value).toBeCloseTo(30, 4)
    // 41 minutes on, the first 20 have left the day's window: $15.
    const [resolved] = await evaluate(sql, minutes(B, 41))
    expect(resolved).toMatchObject({ status: 'resolved', requests: 20 })
    expect(resolved!.value).toBeCloseTo(15, 4)
  })

  it('alerts on each user over their own spend', async () => {
    const { sql, id } = await withRule({ metric: 'user_spend', threshold: 2, window_minutes: 60 })
    await insertRequests(sql, [...burst(minutes(B, -5), 4, 0, { user: 'alice' }), ...burst(minutes(B, -5), 1, 0, { user: 'bob' })])
    expect((await evaluate(sql, B)).map((t) => [t.status, t.subject])).toEqual([['firing', 'alice']])
    await insertRequests(sql, burst(minutes(B, -4), 3, 0, { user: 'bob' }))
    expect((await evaluate(sql, B)).map((t) => [t.status, t.subject])).toEqual([['firing', 'bob']])
    const alerts = await firingAlerts(sql)
    expect(alerts.map((a) => [a.subject, a.value])).toEqual([['alice', 3], ['bob', 3]])
    expect(alerts[0]!.path).toBe('/spend?range=24h&user=alice')
    expect((await evaluate(sql, minutes(B, 60))).map((t) => [t.status, t.subject]).sort()).toEqual([['resolved', 'alice'], ['resolved', 'bob']])
    // Quiet users keep no row once their cooldown (none here) is over.
    await evaluate(sql, minutes(B, 61))
    expect(await sql`select subject from telemetry.alert_state where rule_id = ${id}`).toEqual([])
  })

  it('resolves a firing rule that is disabled, or deleted', async () => {
    const { sql, id } = await withRule({ metric: 'error_rate', threshold: 0.5 })
    await insertRequests(sql, burst(minutes(B, -1), 4, 4))
    const [fired] = await evaluate(sql, B)
    await sql`update telemetry.alert_rules set enabled = false where id = ${id}`
    expect(await evaluate(sql, B)).toMatchObject([{ status: 'resolved', firing_id: fired!.id }])
    await sql`update telemetry.alert_rules set enabled = true where id = ${id}`
    const [again] = await evaluate(sql, B)
    await sql`delete from telemetry.alert_rules where id = ${id}`
    const events = await sql`select status, rule_id, firing_id::text, rule_name from telemetry.alert_events order by id`
    expect(events.at(-1)).toEqual({ status: 'resolved', rule_id: null, firing_id: again!.id, rule_name: 'error_rate' })
    expect(await sql`select 1 from telemetry.alert_state`).toEqual([])
  })

  it('runs one evaluation at a time: two at once fire a rule once', async () => {
    const { sql } = await withRule({ metric: 'error_rate', threshold: 0.5 })
    await insertRequests(sql, burst(minutes(B, -1), 4, 4))
    const [a, b] = await Promise.all([evaluate(sql, B), evaluate(sql, B)])
    expect([...a!, ...b!].map((t) => t.status)).toEqual(['firing'])
  })

  it('knows every metric the shared declaration lists, and the table accepts no other', async () => {
    db = await freshDatabase()
    const [{ def }] = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'alert_rules_metric'`
    expect([...def!.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]).sort()).toEqual([...ALERT_METRIC_NAMES].sort())
    for (const metric of ALERT_METRIC_NAMES) await db.sql`select * from telemetry.alert_measure(${metric}, 5, now())`
    const insert = db.sql`insert into telemetry.alert_rules (name, metric, threshold, window_minutes, min_requests, cooldown_minutes, enabled)
      values ('x', 'p99_vibes', 1, 5, 0, 0, true)`
    await expect(insert).rejects.toMatchObject({ code: '23514' })
  })

  it('lets the dashboard role edit rules and only read state and history', async () => {
    db = await freshDatabase()
    const asDashboard = (run: (tx: Sql) => Promise<unknown>) => db!.sql.begin(async (tx) => {
      await tx`select set_config('role', 'streamscope_dashboard', true)`
      return run(tx as unknown as Sql)
    })
    await asDashboard(async (tx) => {
      const [{ id }] = await tx`insert into telemetry.alert_rules (name, metric, threshold, window_minutes, min_requests, cooldown_minutes, enabled)
        values ('r', 'spend', 5, 60, 0, 0, true) returning id`
      await tx`update telemetry.alert_rules set threshold = 6 where id = ${id}`
      await tx`select * from telemetry.alert_state, telemetry.alert_events`
      await tx`delete from telemetry.alert_rules where id = ${id}`
    })
    const code = (run: (tx: Sql) => Promise<unknown>) => asDashboard(run).then(() => 'ok', (err: { code?: string }) => err.code)
    expect(await code((tx) => tx`select * from telemetry.evaluate_alerts(now())`)).toBe('42501')
    expect(await code((tx) => tx`delete from telemetry.alert_events`)).toBe('42501')
    expect(await code((tx) => tx`update telemetry.alert_state set firing = true`)).toBe('42501')
  })
})
