// `npm run bench:dashboard [-- --spans 10000000 --days 30 --runs 20]`: times the dashboard's
// queries — the same functions the routes call, as the read-only dashboard role — on a
// private PostgreSQL cluster seeded through the real telemetry write path.
//   --spans N / --days D        how much to seed (default 10M spans over 30 days)
//   --database-url URL          use this database instead (seeded already: add --no-seed)
//   --keep                      leave the cluster running and print its URL
// Pages are timed as their routes load them: independent query groups in parallel, each in
// its own transaction. Prints p50/p95 against the targets, and a raw-span baseline.
import { parseArgs } from 'node:util'
import postgres, { type Sql } from 'postgres'
import { migrate } from '../shared/db/migrate.ts'
import { readMigrations } from '../server/migrations.ts'
import { findPgBin, startCluster, type Cluster } from '../tests/support/pg-cluster.ts'
import { seedTelemetry } from '../scripts/seed-telemetry.ts'
import { overview, overviewPage, knownModels } from '../dashboard/src/lib/server/overview.ts'
import { spend } from '../dashboard/src/lib/server/spend.ts'
import { encodeCursor, decodeCursor, listStreams } from '../dashboard/src/lib/server/explorer.ts'
import { getTrace } from '../dashboard/src/lib/server/traces.ts'
import { enterDashboardRole, type Db, type Reader } from '../dashboard/src/lib/server/rollups.ts'
import { health } from '../dashboard/src/lib/server/health.ts'
import { PRESETS, stepFor, type Preset } from '../dashboard/src/lib/range.ts'

const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '20' },
    'database-url': { type: 'string' },
    'no-seed': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
})
const SPANS = Number(values.spans)
const DAYS = Number(values.days)
const RUNS = Number(values.runs)
const log = (line: string) => console.log(line)

let cluster: Cluster | undefined
let url = values['database-url']
if (!url) {
  const bin = findPgBin()
  if (!bin) throw new Error('no PostgreSQL server installed (apt-get install postgresql-15)')
  cluster = await startCluster(bin)
  url = cluster.url
  log(`private cluster at ${url}`)
}
// As many connections as the dashboard's pool (dashboard/src/lib/server/db.ts).
const owner = postgres(url, { max: 4, onnotice: () => {} })

try {
  await migrate(owner, await readMigrations())
  if (!values['no-seed']) {
    log(`seeding ${SPANS.toLocaleString('en-US')} spans over ${DAYS} days through createTelemetryPipeline…`)
    const t0 = performance.now()
    let last = 0
    const result = await seedTelemetry(owner, {
      spans: SPANS, days: DAYS, seed: 42, concurrency: 2,
      onProgress: (p) => {
        const now = performance.now()
        if (now - last < 5000) return
        last = now
        const rate = p.spans / ((now - t0) / 1000)
        log(`  ${p.spans.toLocaleString('en-US')} spans (${Math.round((100 * p.spans) / SPANS)}%), ${Math.round(rate).toLocaleString('en-US')} spans/s, ETA ${Math.round((SPANS - p.spans) / rate)} s`)
      },
    })
    const s = (performance.now() - t0) / 1000
    log(`seeded ${result.spans.toLocaleString('en-US')} spans, ${result.logs.toLocaleString('en-US')} logs, ${result.requests.toLocaleString('en-US')} requests in ${s.toFixed(0)} s (${Math.round(result.spans / s).toLocaleString('en-US')} spans/s)`)
    const v0 = performance.now()
    await owner.unsafe('vacuum analyze telemetry.spans, telemetry.logs, telemetry.rollup_minute, telemetry.rollup_hour, telemetry.rollup_day_session, telemetry.rollup_session')
    log(`vacuum analyze: ${((performance.now() - v0) / 1000).toFixed(0)} s (autovacuum's job in production; index-only scans need the visibility map)`)
  }
  const [size] = await owner<{ spans: string; rollup: string; rows: number; hours: number; hour_size: string; sessions: number; whole_sessions: number }[]>`
    select (select pg_size_pretty(sum(pg_total_relation_size(inhrelid))) from pg_inherits where inhparent = 'telemetry.spans'::regclass) as spans,
           pg_size_pretty(pg_total_relation_size('telemetry.rollup_minute')) as rollup,
           (select count(*)::int from telemetry.rollup_minute) as rows,
           (select count(*)::int from telemetry.rollup_hour) as hours,
           pg_size_pretty(pg_total_relation_size('telemetry.rollup_hour')) as hour_size,
           (select count(*)::int from telemetry.rollup_day_session) as sessions,
           (select count(*)::int from telemetry.rollup_session) as whole_sessions`
  const [counts] = await owner<{ spans: number; requests: number }[]>`
    select count(*)::int as spans, (count(*) filter (where kind = 'server' and function is not null))::int as requests from telemetry.spans`
  log(`data: ${counts!.spans.toLocaleString('en-US')} spans (${size!.spans}), ${counts!.requests.toLocaleString('en-US')} requests; rollup_minute ${size!.rows.toLocaleString('en-US')} rows (${size!.rollup}), rollup_hour ${size!.hours.toLocaleString('en-US')} (${size!.hour_size}), rollup_day_session ${size!.sessions.toLocaleString('en-US')}, rollup_session ${size!.whole_sessions.toLocaleString('en-US')}`)

  await timeAll(owner, 'dashboard queries as streamscope_dashboard')
} finally {
  await owner.end()
  if (cluster && values.keep) log(`cluster kept running: ${url}`)
  else cluster?.destroy()
}

/** As the routes do it: one read-only transaction as streamscope_dashboard. */
function asDashboard<T>(sql: Sql, run: (tx: Db) => Promise<T>): Promise<T> {
  return sql.begin('read only', async (tx) => {
    await enterDashboardRole(tx)
    return run(tx)
  }) as Promise<T>
}

interface Result { name: string; p50: number; p95: number; target: number }

/** A page (its own transactions, in parallel as the route runs them) or one query group (one transaction). */
async function timePage(name: string, target: number, run: (i: number) => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < 2; i++) await run(i)
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    await run(i)
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!
  return { name, p50: q(0.5), p95: q(0.95), target }
}

function time(sql: Sql, name: string, target: number, run: (tx: Db, i: number) => Promise<unknown>): Promise<Result> {
  return timePage(name, target, (i) => asDashboard(sql, (tx) => run(tx, i)))
}

async function timeAll(sql: Sql, label: string) {
  const now = new Date()
  const windowOf = (preset: Preset) => ({ from: new Date(now.getTime() - PRESETS[preset]), to: now })
  const read = (<T>(run: (tx: Db) => Promise<T>) => asDashboard(sql, run)) as Reader
  const overviewOf = (preset: Preset) => () => overviewPage(read, windowOf(preset), stepFor(PRESETS[preset]), {})
  const spendOf = (preset: Preset) => () =>
    Promise.all([spend(read, windowOf(preset), stepFor(PRESETS[preset], 60, 15 * 60_000), {}), read(knownModels)])

  // A cursor half-way back, and a sample of traces across the month.
  const [deep] = await sql<{ t: string; s: string }[]>`
    select start_time::text as t, span_id as s from telemetry.spans
    where kind = 'server' and function is not null and start_time < ${new Date(now.getTime() - 15 * 86_400_000)}
    order by start_time desc, span_id desc limit 1`
  const traces = (await sql<{ trace_id: string }[]>`
    select trace_id from telemetry.spans tablesample system (0.05)
    where kind = 'server' and function is not null limit 200`).map((r) => r.trace_id)
  const someUser = (await sql<{ user_id: string }[]>`select user_id from telemetry.rollup_minute where user_id <> '' limit 1`)[0]?.user_id ?? ''

  const results: Result[] = []
  for (const p of ['1h', '24h', '7d', '30d'] as const) results.push(await timePage(`overview ${p}`, 300, overviewOf(p)))
  results.push(await timePage('overview 7d, one user', 300, () => overview(read, windowOf('7d'), stepFor(PRESETS['7d']), { user: someUser })))
  for (const p of ['24h', '7d', '30d'] as const) results.push(await timePage(`spend ${p}`, 300, spendOf(p)))
  results.push(await time(sql, 'health (1h/6h/24h)', 300, (tx) => health(tx, 0.995, now)))
  results.push(await time(sql, 'explorer first page (1h)', 200, (tx) => listStreams(tx, { window: windowOf('1h'), filters: {}, sort: 'time', dir: 'desc', limit: 50 })))
  results.push(await time(sql, 'explorer first page (30d)', 200, (tx) => listStreams(tx, { window: windowOf('30d'), filters: {}, sort: 'time', dir: 'desc', limit: 50 })))
  if (deep) {
    const after = decodeCursor(encodeCursor({ k: null, t: deep.t, s: deep.s }))!
    results.push(await time(sql, 'explorer deep page (30d, 15 days back)', 200, (tx) => listStreams(tx, { window: windowOf('30d'), filters: {}, sort: 'time', dir: 'desc', limit: 50, after })))
  }
  results.push(await time(sql, 'explorer 30d, one user', 200, (tx) => listStreams(tx, { window: windowOf('30d'), filters: { user: someUser }, sort: 'time', dir: 'desc', limit: 50 })))
  results.push(await time(sql, 'explorer 24h by duration', 200, (tx) => listStreams(tx, { window: windowOf('24h'), filters: {}, sort: 'duration', dir: 'desc', limit: 50 })))
  results.push(await time(sql, 'explorer 24h, status=error', 200, (tx) => listStreams(tx, { window: windowOf('24h'), filters: { status: 'error' }, sort: 'time', dir: 'desc', limit: 50 })))
  results.push(await time(sql, 'trace lookup', 50, (tx, i) => getTrace(tx, traces[i % traces.length]!)))

  // Baseline: what the 24 h overview's numbers cost from raw spans, without rollups.
  const baseline = await time(sql, 'baseline: 24h KPIs from raw spans', Infinity, (tx) => tx`
    select count(*), percentile_cont(array[0.5, 0.95]) within group (order by ttfb_ms), sum(cost_usd)
    from telemetry.spans where kind = 'server' and function is not null and start_time >= ${windowOf('24h').from}`)

  log(`\n${label} — ${RUNS} runs each, ms`)
  log(`${'query'.padEnd(42)} ${'p50'.padStart(8)} ${'p95'.padStart(8)} ${'target'.padStart(8)}`)
  for (const r of results) {
    const ok = r.p95 < r.target ? 'ok' : 'OVER'
    log(`${r.name.padEnd(42)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${`< ${r.target}`.padStart(8)}  ${ok}`)
  }
  const o24 = results.find((r) => r.name === 'overview 24h')!
  log(`${baseline.name.padEnd(42)} ${baseline.p50.toFixed(1).padStart(8)} ${baseline.p95.toFixed(1).padStart(8)}`)
  log(`overview 24h page (all its queries) vs raw-span KPIs alone: ${(o24.p50 / baseline.p50).toFixed(2)}× the time at p50`)
}
