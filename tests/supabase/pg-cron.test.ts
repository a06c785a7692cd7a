// Retention on Supabase, where pg_cron runs the maintenance: on a PostgreSQL 15 with pg_cron
// preloaded (a cluster of its own: shared_preload_libraries is a server setting), the job is
// scheduled when pg_cron is created after the migrations, once however often it is ensured, and
// its command reads the retention from telemetry.settings when it runs; the alert evaluation is
// scheduled beside it, and its command records a rule's firing with no server running.
import { existsSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../shared/db/migrate.ts'
import { readMigrations } from '../../server/migrations.ts'
import { findPgBin, startCluster, type Cluster } from '../support/pg-cluster.ts'
import { burst, insertRequests } from '../dashboard/alert-spans.ts'

const bin = findPgBin()
// Debian's layout: /usr/lib/postgresql/<v>/bin, /usr/share/postgresql/<v>/extension.
const cronInstalled = Boolean(bin && existsSync(`/usr/share/postgresql/${basename(dirname(bin))}/extension/pg_cron.control`))
const JOB = 'streamscope-telemetry-maintenance'

let cluster: Cluster
let sql: Sql
beforeAll(async () => {
  if (!cronInstalled) return
  cluster = await startCluster(bin!, { shared_preload_libraries: 'pg_cron', 'cron.database_name': 'postgres', 'cron.use_background_workers': 'on' })
  sql = postgres(cluster.url, { max: 2, onnotice: () => {} })
  await migrate(sql, await readMigrations())
})
afterAll(async () => {
  await sql?.end({ timeout: 1 })
  cluster?.destroy()
})

const jobs = () => sql`select schedule, command, database from cron.job where jobname = ${JOB}`
const partitions = async () => (await sql`
  select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
  where i.inhparent = 'telemetry.spans'::regclass order by 1`).map((r) => r.relname as string)
const day = (offset: number) => `spans_${new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10).replaceAll('-', '')}`

describe.skipIf(!cronInstalled)('pg_cron (apt: postgresql-15-cron)', () => {
  it('schedules the job when pg_cron is created after the migrations, and ensuring it again changes nothing', async () => {
    expect((await sql`select telemetry.ensure_schedule() as s`)[0].s).toBe('pg_cron is not installed')
    await sql`create extension pg_cron`
    expect(await jobs()).toEqual([{ schedule: '17 * * * *', command: 'select telemetry.run_maintenance()', database: 'postgres' }])
    // A project where pg_cron was there first has the job of the first retention migration, 30
    // days written into it: ensuring (the last migration does it) makes it read the setting.
    await sql`select cron.schedule(${JOB}, '17 * * * *', 'select telemetry.run_maintenance(30)')`
    expect((await sql`select telemetry.ensure_schedule() as s`)[0].s).toBe('scheduled')
    expect(await jobs()).toEqual([{ schedule: '17 * * * *', command: 'select telemetry.run_maintenance()', database: 'postgres' }])
    // Enabled again after being dropped: scheduled again.
    await sql`drop extension pg_cron`
    await sql`create extension pg_cron`
    expect(await jobs()).toHaveLength(1)
  })

  it("runs with the retention in telemetry.settings at the job's run time", async () => {
    const [{ command }] = await jobs()
    await sql`select telemetry.ensure_partitions(current_date - 10, current_date - 1)`
    for (const [retention, gone, kept] of [[8, -9, -8], [3, -4, -3]] as const) {
      await sql`update telemetry.settings set retention_days = ${retention}`
      // The job's own text, as pg_cron's worker runs it.
      const [{ run_maintenance: result }] = await sql.unsafe(command as string)
      expect(result).toMatchObject({ retention_days: retention })
      expect(await partitions()).not.toContain(day(gone))
      expect(await partitions()).toContain(day(kept))
    }
  })

  it('leaves CREATE EXTENSION alone when scheduling fails', async () => {
    await sql`drop extension pg_cron`
    await sql`alter function telemetry.ensure_schedule() rename to ensure_schedule_away`
    try {
      await sql`create extension pg_cron`
      expect(await sql`select 1 from pg_extension where extname = 'pg_cron'`).toHaveLength(1)
      expect(await jobs()).toEqual([])
    } finally {
      await sql`alter function telemetry.ensure_schedule_away() rename to ensure_schedule`
    }
    expect((await sql`select telemetry.ensure_schedule() as s`)[0].s).toBe('scheduled')
  })

  it('evaluates the alert rules every minute', async () => {
    const [job] = await sql<{ schedule: string; command: string }[]>`select schedule, command from cron.job where jobname = 'streamscope-alerts'`
    expect(job!.schedule).toBe('* * * * *')
    await sql`insert into telemetry.alert_rules (name, metric, threshold, window_minutes, min_requests, cooldown_minutes, enabled)
              values ('errors', 'error_rate', 0.5, 60, 1, 0, true)`
    await insertRequests(sql, burst(new Date(), 4, 4))
    // The job's own text, as pg_cron's worker runs it (which may also have run it meanwhile).
    await sql.unsafe(job!.command)
    expect(await sql`select subject, firing from telemetry.alert_state`).toEqual([{ subject: '', firing: true }])
    expect(await sql`select status, delivery from telemetry.alert_events`).toEqual([{ status: 'firing', delivery: 'pending' }])
  })
})
