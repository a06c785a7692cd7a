// Telemetry's database goes away mid-run: streams carry on untouched, rows wait in
// the bounded queue, and are written when the database is back.
import postgres from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { migrate } from '../../shared/db/migrate.ts'
import { createTelemetry, type Telemetry } from '../../shared/telemetry/telemetry.ts'
import { readMigrations } from '../../server/migrations.ts'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { findPgBin, startCluster, type Cluster } from '../support/pg-cluster.ts'

const bin = findPgBin()
let messagesDb: TestDatabase
let cluster: Cluster
let telemetrySql: postgres.Sql

beforeAll(async () => {
  if (!bin) return
  messagesDb = await freshDatabase()
  cluster = await startCluster(bin)
  telemetrySql = postgres(cluster.url, { max: 2, connect_timeout: 2, onnotice: () => {} })
  await migrate(telemetrySql, await readMigrations())
  // The throwaway cluster commits asynchronously and stops in immediate mode: make the
  // migrations durable before the test crashes it.
  await telemetrySql`checkpoint`
})
afterAll(async () => {
  await telemetrySql?.end({ timeout: 1 })
  cluster?.destroy()
  await messagesDb?.drop()
})

async function chat(f: ReturnType<typeof createChatFixture>, user: string) {
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'are you there?' }, { token: await f.token(user) })
  const frames = framesOf(await res.text())
  return { status: res.status, last: frames.at(-1)!.event, traceId: res.headers.get('x-trace-id')! }
}

const until = async (ok: () => boolean, ms = 15_000) => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50))
}

it.skipIf(!bin)('chat streams keep working while the telemetry database is down; their spans arrive after it returns', async () => {
  const lines: string[] = []
  const telemetry: Telemetry = createTelemetry({
    serviceName: 'outage-test', sql: telemetrySql, writeLog: (l) => lines.push(l),
    pipeline: { flushIntervalMs: 10, retryMinMs: 20, retryMaxMs: 200 },
  })
  const f = createChatFixture(messagesDb.sql, {}, undefined, { telemetry })
  const user = '1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b'

  cluster.stop()
  const during = await Promise.all(Array.from({ length: 8 }, () => chat(f, user)))
  expect(during.map((r) => [r.status, r.last])).toEqual(Array(8).fill([200, 'chat.done']))
  await telemetry.flush() // fails quietly: the database is down
  const held = telemetry.pipeline!.stats()
  expect(held.queued).toBeGreaterThan(8 * 3) // every stream's spans and logs, waiting
  expect(held.failures).toBeGreaterThan(0)
  expect(held.dropped).toBe(0)
  expect(lines.some((l) => l.includes('telemetry write failed; will retry'))).toBe(true)

  cluster.start()
  await until(() => telemetry.pipeline!.stats().queued === 0)
  const ids = during.map((r) => r.traceId)
  const stored = await telemetrySql`select count(distinct trace_id)::int as traces from telemetry.spans where trace_id in ${telemetrySql(ids)} and parent_span_id is null`
  expect(stored[0].traces).toBe(8)
  const [roll] = await telemetrySql`select sum(requests)::int as n from telemetry.rollup_minute where user_id = ${user}`
  expect(roll.n).toBe(8)
  await telemetry.shutdown()
})

it.skipIf(!bin)('beyond maxQueue rows the oldest are dropped and counted; streams are still unaffected', async () => {
  const lines: string[] = []
  const telemetry = createTelemetry({
    serviceName: 'outage-bound', sql: telemetrySql, writeLog: (l) => lines.push(l),
    pipeline: { maxQueue: 20, flushIntervalMs: 10, retryMinMs: 20, retryMaxMs: 200 },
  })
  const f = createChatFixture(messagesDb.sql, {}, undefined, { telemetry })
  cluster.stop()
  try {
    const during = await Promise.all(Array.from({ length: 10 }, () => chat(f, '2e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b')))
    expect(during.every((r) => r.status === 200 && r.last === 'chat.done')).toBe(true)
    await telemetry.flush()
    const s = telemetry.pipeline!.stats()
    expect(s.queued).toBeLessThanOrEqual(20)
    expect(s.dropped).toBeGreaterThan(0)
    const report = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'telemetry rows dropped')
    expect(report).toMatchObject({ level: 'warn', dropped_since_last: expect.any(Number), queued: expect.any(Number) })
  } finally {
    cluster.start()
  }
  await telemetry.shutdown()
})
