import { afterAll, beforeAll, expect, it } from 'vitest'
import { readDashboardConfig } from '../shared/dashboard-config.ts'
import { startMaintenance } from './maintenance.ts'
import { freshDatabase, type TestDatabase } from '../tests/support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const partitions = async (table: string) => (await db.sql`
  select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
  where i.inhparent = ${'telemetry.' + table}::regclass order by 1`).map((r) => r.relname as string)
const day = (offset: number) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10).replaceAll('-', '')

it('drops whole day partitions past the retention (spans and logs), keeps the rest and makes the days ahead', async () => {
  await db.sql`select telemetry.ensure_partitions(current_date - 45, current_date - 1)`
  await db.sql`insert into telemetry.spans (trace_id, span_id, name, kind, start_time, end_time, duration_ms)
               values ('t', 's-old', 'old', 'server', now() - interval '40 days', now() - interval '40 days', 1),
                      ('t', 's-kept', 'kept', 'server', now() - interval '5 days', now() - interval '5 days', 1)`
  await db.sql`insert into telemetry.rollup_minute values
    (date_trunc('minute', now() - interval '500 days'), 'chat', '', 'ok', '', '', 1, 0, 0, 0, 0, 1, 0, 0, array_fill(0, array[67]), array_fill(0, array[67])),
    (date_trunc('minute', now() - interval '40 days'), 'chat', '', 'ok', '', '', 1, 0, 0, 0, 0, 1, 0, 0, array_fill(0, array[67]), array_fill(0, array[67]))`
  const lines: string[] = []
  const m = startMaintenance(db.sql, { retentionDays: 30, log: (l) => lines.push(l) })
  await m.stop() // waits for the pass started at once
  const result = await m.runOnce() // idempotent second pass
  expect(result).toEqual({ created: 0, dropped: 0, rollups_pruned: 0, trace_owners_pruned: 0, retention_days: 30 })

  for (const table of ['spans', 'logs']) {
    const names = await partitions(table)
    expect(names).not.toContain(`${table}_${day(-31)}`)
    expect(names).not.toContain(`${table}_${day(-45)}`)
    expect(names).toContain(`${table}_${day(-30)}`)
    expect(names).toContain(`${table}_${day(7)}`)
  }
  expect((await db.sql`select name from telemetry.spans`).map((r) => r.name)).toEqual(['kept'])
  const [{ n }] = await db.sql`select count(*)::int as n from telemetry.rollup_minute`
  expect(n).toBe(1)
  expect(lines.join('\n')).toMatch(/dropped 3\d day partitions older than 30 days, pruned 1 rollup rows/)
})

it('forgets trace owners unseen for longer than the retention, and only those', async () => {
  const [old, recent] = ['a'.repeat(32), 'b'.repeat(32)]
  await db.sql`insert into public.trace_owners (trace_id, user_id, seen_at) values
    (${old}, gen_random_uuid(), now() - interval '31 days'), (${recent}, gen_random_uuid(), now() - interval '29 days')`
  const m = startMaintenance(db.sql, { retentionDays: 30 })
  await m.stop()
  expect((await db.sql`select trace_id from public.trace_owners where trace_id in (${old}, ${recent})`).map((r) => r.trace_id)).toEqual([recent])
})

it('uses UTC day bounds whatever the session time zone', async () => {
  await db.sql.begin(async (tx) => {
    await tx`set local timezone = 'America/Los_Angeles'`
    // current_date would be the Los Angeles date: name the UTC day, as day(20) does.
    await tx`select telemetry.ensure_partitions((now() at time zone 'UTC')::date + 20, (now() at time zone 'UTC')::date + 20)`
    const [r] = await tx`select pg_get_expr(c.relpartbound, c.oid) as bound from pg_class c where relname = ${'spans_' + day(20)}`
    expect(r.bound).toMatch(/FROM \('\d{4}-\d\d-\d\d 16:00:00-08'\)|FROM \('\d{4}-\d\d-\d\d 17:00:00-07'\)/)
  })
})

it('refuses a retention below one day', () => {
  expect(() => startMaintenance(db.sql, { retentionDays: 0 })).toThrow(/TELEMETRY_RETENTION_DAYS/)
})

it('keeps the retention in telemetry.settings: TELEMETRY_RETENTION_DAYS is written there, unset reads it', async () => {
  const setting = async () => (await db.sql`select retention_days from telemetry.settings`)[0].retention_days as number
  // What pg_cron's job (select telemetry.run_maintenance()) would do after an operator's update.
  await db.sql`update telemetry.settings set retention_days = 12`
  await db.sql`select telemetry.ensure_partitions(current_date - 14, current_date - 1)`
  const fromRow = startMaintenance(db.sql, { retentionDays: readDashboardConfig({}).retentionDays })
  await fromRow.stop()
  expect(await fromRow.runOnce()).toMatchObject({ retention_days: 12 })
  expect(await partitions('spans')).not.toContain(`spans_${day(-13)}`)
  expect(await partitions('spans')).toContain(`spans_${day(-12)}`)
  expect(await setting()).toBe(12)

  const fromEnv = startMaintenance(db.sql, { retentionDays: readDashboardConfig({ TELEMETRY_RETENTION_DAYS: '5' }).retentionDays })
  await fromEnv.stop()
  expect(await setting()).toBe(5)
  expect(await partitions('logs')).not.toContain(`logs_${day(-6)}`)
  const [{ result }] = await db.sql`select telemetry.run_maintenance() as result`
  expect(result).toMatchObject({ retention_days: 5 })
  expect((await db.sql`select telemetry.ensure_schedule() as s`)[0].s).toBe('pg_cron is not installed')
})
