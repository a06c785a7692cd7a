// The functions' own client (openFunctionsDatabase) through PgBouncer 1.18 in transaction mode, in
// front of this file's database. The pooler picks a server connection per transaction, so what a
// transaction leaves in its session is gone in the next one. Each test drives the client onto a
// server connection that has never seen it: with one server connection open, holding it in a
// transaction makes the pooler open another for the next transaction.
import { randomUUID } from 'node:crypto'
import postgres, { type Sql } from 'postgres'
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { chatTraceRows } from '../../bench/telemetry-rows.ts'
import { createRateLimiter } from '../../functions/rate-limit.ts'
import { createTraceOwners } from '../../functions/trace-owners.ts'
import { openFunctionsDatabase } from '../../shared/db/open.ts'
import { createBatchWriter } from '../../shared/telemetry/writer.ts'
import { startPooler, type Pooler } from '../../tools/edge/pooler.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { minuteWithRoom, until } from '../support/wait.ts'

let db: TestDatabase
let pooler: Pooler
let admin: Sql
const opened: Sql[] = []

beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })
beforeEach(async () => {
  pooler = await startPooler({ serverUrl: db.url, poolSize: 2 })
  admin = postgres(pooler.adminUrl, { max: 1, fetch_types: false, onnotice: () => {} })
})
afterEach(async () => {
  for (const sql of opened.splice(0)) await sql.end({ timeout: 1 })
  await admin.end({ timeout: 1 })
  await pooler.stop()
})

/** The functions' client as an entry opens it on Supabase: the pooler secret beside the platform's direct URL. */
function functionsClient(env: Record<string, string> = {}): Sql {
  const sql = openFunctionsDatabase({ JWT_SECRET: 'pooler-session-secret-of-32-characters', STREAMSCOPE_DB_POOLER_URL: pooler.url, SUPABASE_DB_URL: db.url, ...env })
  opened.push(sql)
  return sql
}

const database = () => new URL(db.url).pathname.slice(1)
const show = async (what: 'SERVERS' | 'CLIENTS') =>
  ((await admin.unsafe(`SHOW ${what}`).simple()) as unknown as { database: string }[]).filter((r) => r.database === database())

/** Holds the pooler's one open server connection in a transaction until released. */
async function holdTheServer(): Promise<{ release(): Promise<void> }> {
  expect(await show('SERVERS')).toHaveLength(1)
  const holder = postgres(pooler.url, { max: 1, prepare: false, onnotice: () => {} })
  opened.push(holder)
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let holding!: () => void
  const held = new Promise<void>((resolve) => { holding = resolve })
  const done = holder.begin(async (tx) => { await tx`select 1`; holding(); await released })
  await held
  return { release: async () => { release(); await done } }
}

it('keeps no session state between transactions: a temp table made outside one is gone on the next server connection', async () => {
  const sql = functionsClient()
  await sql`create temp table stage_probe (n int)`
  await sql`insert into stage_probe values (1)`
  const hold = await holdTheServer()
  await expect(sql`insert into stage_probe values (2)`).rejects.toMatchObject({ code: '42P01' }) // undefined_table
  await hold.release()
})

it('writes telemetry by COPY, through the stage, by the fallback and after a missing partition, on a server connection that never saw the stage', async () => {
  const sql = functionsClient()
  const writer = createBatchWriter(sql)
  const t0 = Date.now()
  const batches = [1, 2, 3, 4].map((i) => chatTraceRows(i === 4 ? t0 + 60 * 86_400_000 : t0, i))
  await writer.write('spans', batches[0]!) // the request span through the stage, the rest by COPY
  const hold = await holdTheServer()
  await writer.write('spans', batches[1]!) // a new server connection: the stage is made there too
  await writer.write('logs', [{ time: new Date(t0), level: 'info', trace_id: batches[1]![0]!.trace_id, span_id: null, message: 'through the pooler', attributes: { n: 1 } }])
  await writer.write('spans', batches[0]!) // a replay: COPY refused (duplicate keys), the whole batch through the stage
  expect(writer.fallbacks).toBe(1)
  expect(await show('SERVERS')).toHaveLength(2)
  await hold.release()
  await writer.write('spans', batches[2]!) // a server connection whose stage exists already
  await writer.write('spans', batches[3]!) // a day without a partition yet

  const traces = batches.map((b) => b[0]!.trace_id)
  const [{ spans }] = await db.sql`select count(*)::int as spans from telemetry.spans where trace_id in ${db.sql(traces)}`
  expect(spans).toBe(batches.flat().length)
  const users = batches.map((b) => b[0]!.user_id!)
  const [{ requests }] = await db.sql`select sum(requests)::int as requests from telemetry.rollup_minute where user_id in ${db.sql(users)}`
  expect(requests).toBe(4) // the replay counted once
  expect(await db.sql`select message from telemetry.logs where trace_id = ${traces[1]!}`).toEqual([{ message: 'through the pooler' }])
})

it('counts rate limits and claims traces on whichever server connection the pooler gives', async () => {
  const sql = functionsClient()
  const limiter = createRateLimiter(sql, { requestsPerMinute: 2, tokensPerMinute: 1_000 })
  const owners = createTraceOwners(sql)
  const [user, other, trace] = [randomUUID(), randomUUID(), randomUUID().replaceAll('-', '')]
  await minuteWithRoom()
  const first = await limiter.check(user, 100)
  expect(await owners.claim(trace, user)).toBe(true)
  const hold = await holdTheServer()
  const second = await limiter.check(user, 100)
  await limiter.settle(user, first.windowStart, -100)
  expect(await owners.claim(trace, other)).toBe(false)
  expect(await owners.claim(trace, user)).toBe(true)
  await hold.release()
  expect([first.allowed, second.allowed, (await limiter.check(user, 100)).allowed]).toEqual([true, true, false])
  const [{ tokens }] = await db.sql`select sum(tokens)::int as tokens from public.rate_limits where user_id = ${user}`
  expect(tokens).toBe(100) // two estimates of 100, one settled to 0; the refused third is not counted
})

it('opens one connection however many queries wait, and gives it back once idle', async () => {
  const sql = functionsClient({ DB_IDLE_TIMEOUT_SECONDS: '1' })
  await Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(0.01)`))
  expect(await show('CLIENTS')).toHaveLength(1) // through the pooler, although SUPABASE_DB_URL is set
  await until(async () => (await show('CLIENTS')).length === 0, 'the idle connection to close')
  await sql`select 1`
  expect(await show('CLIENTS')).toHaveLength(1)
})
