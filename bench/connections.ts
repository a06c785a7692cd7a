// bench:connections — the connections the functions take on `npm run edge`'s stack under one load
// (the load tool in its own process), at several isolate counts: PostgreSQL's client backends
// (what counts against max_connections), PgBouncer's server connections (to PostgreSQL) and client
// connections (from the isolates), and clients left waiting at the pooler. Prints figures; never
// fails on them (exit 1 only if a run could not be made at all).
//
//   npm run bench:connections [-- --isolates 4,8,16 --streams 200 --duration 30s --pool-size 15
//                                  --direct]   (also each level with the isolates on SUPABASE_DB_URL,
//                                               DB_MAX_CONNECTIONS=3: the entries before the pooler secret)
//
// Chats of 100 tokens at 20 tokens/s (5 s each), back to back on every stream; rate limits off.
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { parseDuration } from '../tools/load/args.ts'
import type { LoadSummary } from '../tools/load/run.ts'
import { spawnLoad } from '../tools/load/spawn-load.ts'
import { startEdgeStack, type EdgeStack } from '../tools/edge/stack.ts'

const { values } = parseArgs({
  options: {
    isolates: { type: 'string', default: '4,8,16' },
    streams: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30s' },
    ramp: { type: 'string', default: '5s' },
    'pool-size': { type: 'string', default: '15' },
    direct: { type: 'boolean', default: false },
  },
})
const SECRET = 'bench-connections-secret-at-least-32-characters'
const ENV = {
  JWT_SECRET: SECRET, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
  SIM_TTFB_MS: '150', SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '100', SIM_MAX_TOKENS: '100',
}
const log = (line: string) => process.stderr.write(`[bench:connections] ${line}\n`)

interface Sample { backends: number; servers: number; clients: number; waiting: number }
interface Row { isolates: number; database: 'pooler' | 'direct'; idle: Sample; peak: Sample; load: LoadSummary }

/** What PostgreSQL and PgBouncer count right now (the sampler's own backend excluded). */
async function sample(stack: EdgeStack, pg: postgres.Sql, admin: postgres.Sql): Promise<Sample> {
  const [{ n }] = await pg`select count(*)::int - 1 as n from pg_stat_activity where backend_type = 'client backend'`
  const show = async (what: string) => ((await admin.unsafe(`SHOW ${what}`).simple()) as unknown as Record<string, string | number>[])
    .filter((r) => r.database === new URL(stack.poolerUrl).pathname.slice(1))
  const [servers, clients, pools] = [await show('SERVERS'), await show('CLIENTS'), await show('POOLS')]
  return { backends: n, servers: servers.length, clients: clients.length, waiting: pools.reduce((sum, p) => sum + Number(p.cl_waiting), 0) }
}

const peakOf = (samples: Sample[]): Sample => ({
  backends: Math.max(...samples.map((s) => s.backends)), servers: Math.max(...samples.map((s) => s.servers)),
  clients: Math.max(...samples.map((s) => s.clients)), waiting: Math.max(...samples.map((s) => s.waiting)),
})

async function run(isolates: number, database: Row['database']): Promise<Row> {
  log(`${isolates} isolates per function, ${database}: starting the stack`)
  const stack = await startEdgeStack({
    isolates, poolSize: Number(values['pool-size']), wallClockMs: 0, isolateDatabase: database,
    env: { ...ENV, ...(database === 'direct' ? { DB_MAX_CONNECTIONS: '3' } : {}) }, log: () => {},
  })
  const pg = postgres(stack.directUrl, { max: 1, onnotice: () => {} })
  const admin = postgres(stack.poolerAdminUrl, { max: 1, fetch_types: false, onnotice: () => {} })
  try {
    const idle = await sample(stack, pg, admin)
    const samples: Sample[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        samples.push(await sample(stack, pg, admin))
        await new Promise((r) => setTimeout(r, 250))
      }
    })()
    const load = await spawnLoad([
      '--url', stack.gatewayUrl, '--jwt-secret', SECRET, '--streams', values.streams, '--duration', values.duration,
      '--ramp', values.ramp, '--drain', '60s', '--prompt-tokens', '50', '--engine', 'raw',
    ], { timeoutMs: parseDuration(values.duration) + 180_000 })
    sampling = false
    await sampler
    return { isolates, database, idle, peak: peakOf(samples), load }
  } finally {
    await pg.end({ timeout: 1 })
    await admin.end({ timeout: 1 })
    await stack.stop()
  }
}

const rows: Row[] = []
for (const n of values.isolates.split(',').map(Number)) {
  for (const database of values.direct ? ['pooler', 'direct'] as const : ['pooler'] as const) {
    try {
      rows.push(await run(n, database))
    } catch (err) {
      log(`${n} isolates, ${database}: ${(err as Error).message}`)
      process.exitCode = 1
    }
  }
}

const errors = (s: LoadSummary) => Object.entries(s.errors).map(([code, count]) => `${code} ${count}`).join(', ') || '–'
console.log(`\n${values.streams} concurrent streams for ${values.duration}, PgBouncer pool ${values['pool-size']}, PostgreSQL max_connections 60; peaks sampled every 250 ms (idle: after start, before the load)\n`)
console.log('| isolates per function | database | PostgreSQL client backends (idle → peak) | PgBouncer server connections | PgBouncer clients | clients waiting | chats done / failed | errors | TTFB p50 / p99 ms |')
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
for (const r of rows) {
  const pooled = r.database === 'pooler'
  console.log(`| ${r.isolates} | ${pooled ? 'pooler, 1 connection per isolate' : 'direct, 3 per isolate'} | ${r.idle.backends} → ${r.peak.backends} | ${pooled ? r.peak.servers : '–'} | ${pooled ? r.peak.clients : '–'} | ${pooled ? r.peak.waiting : '–'} | ${r.load.chats.done} / ${r.load.chats.failed} | ${errors(r.load)} | ${r.load.ttfb_ms.p50.toFixed(0)} / ${r.load.ttfb_ms.p99.toFixed(0)} |`)
}
