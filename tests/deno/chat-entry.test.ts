// The Supabase entry file under real Deno: the same handler the Node server runs,
// streaming end to end against the test Postgres.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { until } from '../support/wait.ts'
import { startDenoEntry, type DenoEntry } from '../support/deno.ts'

const SECRET = 'deno-secret-that-is-at-least-32-characters'
let db: TestDatabase
let deno: DenoEntry
let url: string

beforeAll(async () => {
  db = await freshDatabase()
  deno = await startDenoEntry('supabase/functions/chat/index.ts', { DATABASE_URL: db.url, JWT_SECRET: SECRET, SIM_TTFB_MS: '10', SIM_TOKENS_PER_SECOND: '500' })
  url = deno.url
}, 90_000)

afterAll(async () => {
  deno?.stop()
  await db?.drop()
})

it('streams a chat and stores its messages and spans', async () => {
  const user = '6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f'
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signUserToken(SECRET, user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'hello deno' }),
  })
  expect(res.status).toBe(200)
  const traceId = res.headers.get('x-trace-id')!
  const frames = framesOf(await res.text())
  expect(frames.at(-1)!.event).toBe('chat.done')
  const [msg] = await db.sql`select user_id from messages where trace_id = ${traceId} and role = 'assistant'`
  expect(msg.user_id).toBe(user)
  const expected = ['POST /functions/v1/chat', 'chat sim-1', 'insert messages']
  const names = async () => (await db.sql`select name from telemetry.spans where trace_id = ${traceId}`).map((r) => r.name as string)
  await until(async () => { const n = await names(); return expected.every((e) => n.includes(e)) }, 'the spans').catch(() => {})
  expect(await names()).toEqual(expect.arrayContaining(expected))
})

it('answers bad input with the same JSON errors as on Node', async () => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(401)
  expect((await res.json()).error.code).toBe('unauthorized')
})
