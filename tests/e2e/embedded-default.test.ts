// `npm start`'s zero-setup default under the traffic that once took it down: chats from many users
// while operators poll the dashboard, on the embedded database (no DATABASE_URL). Every chat ends
// with chat.done and every dashboard read answers 200; the health page counts survived faults.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { PROCESS_FAULT_MESSAGE } from '../../shared/telemetry/faults.ts'
import { embeddedPgBin, findPgBin, openLocalDatabase } from '../../server/pg-cluster.ts'
import { createClientEngine } from '../../tools/load/client-engine.ts'
import { runLoad } from '../../tools/load/run.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const SECRET = 'embedded-default-secret-of-at-least-32-chars'
const OPERATOR = 'embedded-default-operator-token-0123456789'
let dir: string
let server: RunningServer
let sql: Sql

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'streamscope-embedded-'))
  server = await startServer({
    LOCAL_DB_DIR: dir, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR,
    SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '200', SIM_MIN_TOKENS: '5', SIM_MAX_TOKENS: '20',
    SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0', RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0',
  })
  // The server started the cluster; this joins it (its owner is alive) and reads its URL.
  const local = await openLocalDatabase(embeddedPgBin() ?? findPgBin()!, dir)
  expect(local.started).toBe(false)
  sql = postgres(local.url, { max: 1, onnotice: () => {} })
}, 180_000)

afterAll(async () => {
  await sql?.end({ timeout: 1 })
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

it('runs on a real PostgreSQL server of its own, and prints no configured secret', async () => {
  expect(server.output()).toContain('embedded PostgreSQL')
  expect(server.output()).toContain('configured (not shown)')
  for (const secret of [SECRET, OPERATOR]) expect(server.output()).not.toContain(secret)
  const [{ version }] = await sql`select version()`
  expect(version).toMatch(/^PostgreSQL 1\d\./)
})

it('serves 12 concurrent users and 6 dashboard readers without one failure', async () => {
  const tokens = await Promise.all(Array.from({ length: 12 }, () => signUserToken(SECRET, crypto.randomUUID())))
  const summary = await runLoad({
    url: server.baseUrl, streams: 12, durationMs: 4_000, rampMs: 0, drainMs: 120_000,
    prompt: 'a question from a busy minute', runId: 'embedded-default-test',
    token: (i) => tokens[i]!,
    engine: createClientEngine(),
    dashboardReaders: 6, operatorToken: OPERATOR,
  })
  expect(summary.chats.started).toBeGreaterThanOrEqual(12)
  expect({ failed: summary.chats.failed, cut: summary.chats.cut_at_end, errors: summary.errors })
    .toEqual({ failed: 0, cut: 0, errors: {} })
  expect(summary.chats.done).toBe(summary.chats.started)
  expect(summary.dashboard!.reads).toBeGreaterThan(0)
  expect({ failed: summary.dashboard!.failed, failures: summary.dashboard!.failures }).toEqual({ failed: 0, failures: [] })
  expect(Object.keys(summary.dashboard!.by_status)).toEqual(['200'])
  expect(server.output()).not.toContain(PROCESS_FAULT_MESSAGE)
}, 300_000)

it('counts survived process faults on the health page', async () => {
  const health = async () => {
    const res = await fetch(`${server.baseUrl}/api/health`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    expect(res.status).toBe(200)
    return (await res.json()).process_faults
  }
  expect((await health()).count_24h).toBe(0)
  const traceId = 'f'.repeat(32)
  await sql`insert into telemetry.logs (time, level, trace_id, message, attributes)
            values (now(), 'error', ${traceId}, ${PROCESS_FAULT_MESSAGE}, ${sql.json({ error: 'planted' })})`
  expect(await health()).toMatchObject({ count_24h: 1, last: { trace_id: traceId, error: 'planted' } })
  const page = await fetch(`${server.baseUrl}/health`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  const html = await page.text()
  expect(html).toMatch(/data-testid="fault-count"[^>]*>1</)
  expect(html).toContain(`/traces/${traceId}`)
})

it('finds those faults by an index made for exactly their message', async () => {
  const [idx] = await sql`select indexdef from pg_indexes where indexname = 'logs_process_faults_idx'`
  expect(idx.indexdef).toContain(`'${PROCESS_FAULT_MESSAGE}'`)
})
