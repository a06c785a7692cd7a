// chat.done end to end over Realtime: a supabase-js client under real Deno subscribes through the
// client library (private channel, the user's JWT), the chat handler broadcasts through the HTTP
// API, and a stand-in Realtime (tests/realtime/stand-in.ts) authorizes joins with the policy the
// migration installed, on a database given a stand-in `realtime` schema.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatTopic } from '../../shared/realtime.ts'
import { createChatFixture, framesOf, TEST_SECRET } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { REALTIME_SCHEMA, startRealtimeStandIn, type RealtimeStandIn } from './stand-in.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const ALICE = '3c1d0e2f-4a5b-4c6d-8e7f-90a1b2c3d4e5'
const BOB = '7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9'
const SERVICE_KEY = 'service-role-key-for-the-subscribe-test'
const ANON_KEY = 'anon-key-for-the-subscribe-test'

let db: TestDatabase
let realtime: RealtimeStandIn
const children: ChildProcess[] = []

beforeAll(async () => {
  db = await freshDatabase()
  await db.sql.unsafe(REALTIME_SCHEMA)
  const [{ installed }] = await db.sql`select public.install_chat_realtime_policy() as installed`
  expect(installed).toBe(true)
  realtime = await startRealtimeStandIn({ sql: db.sql, jwtSecret: TEST_SECRET, serviceKey: SERVICE_KEY })
})
afterAll(async () => {
  for (const c of children) c.kill()
  await realtime?.close()
  await db?.drop()
})

/** A Deno subscriber; `next(match)` waits for its next printed line that matches. */
function subscriber(token: string, mode: 'session' | 'topic', target: string) {
  const child = spawn(`${ROOT}node_modules/.bin/deno`,
    ['run', '--node-modules-dir=manual', '--config', 'supabase/functions/deno.json', '--allow-net', '--allow-env', '--allow-read',
      'tests/realtime/deno-subscriber.ts', realtime.url, ANON_KEY, token, mode, target],
    { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += d })
  const lines: any[] = []
  const waiting: (() => void)[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try { lines.push(JSON.parse(line)) } catch { return }
    for (const w of waiting.splice(0)) w()
  })
  let exited = false
  child.on('exit', () => { exited = true; for (const w of waiting.splice(0)) w() })
  let read = 0
  return {
    async next(match: (line: any) => boolean): Promise<any> {
      for (;;) {
        while (read < lines.length) {
          const line = lines[read++]
          if (match(line)) return line
        }
        if (exited) throw new Error(`the Deno subscriber exited; printed ${JSON.stringify(lines)}\n${stderr}`)
        await new Promise<void>((resolve) => waiting.push(resolve))
      }
    },
  }
}

describe('chat.done over Realtime, private to its user', () => {
  it("reaches the user's subscriber and no one else's, on a private channel joined with the user's JWT", async () => {
    const bookkeeping: Promise<unknown>[] = []
    const f = createChatFixture(db.sql, { REALTIME_ENABLED: 'true', SUPABASE_URL: realtime.url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY },
      undefined, { waitUntil: (work) => { bookkeeping.push(work) } })
    const session = crypto.randomUUID()
    const aliceToken = await f.token(ALICE)
    const bobToken = await f.token(BOB)

    // Alice listens; Bob listens to his own chats in the same session id, and tries Alice's topic outright.
    const alice = subscriber(aliceToken, 'session', session)
    const bob = subscriber(bobToken, 'session', session)
    const intruder = subscriber(bobToken, 'topic', chatTopic(ALICE, session))
    const [aliceJoined, bobJoined, refused] = await Promise.all([
      alice.next((l) => 'subscribed' in l || 'error' in l),
      bob.next((l) => 'subscribed' in l || 'error' in l),
      intruder.next((l) => 'status' in l),
    ])
    expect(aliceJoined).toEqual({ subscribed: chatTopic(ALICE, session) })
    expect(bobJoined).toEqual({ subscribed: chatTopic(BOB, session) })
    expect(refused.status).toBe('CHANNEL_ERROR')
    expect(refused.error).toMatch(/permissions to read/)

    // Realtime would let a refused channel retry its join; every attempt is refused, none accepted.
    const joins = realtime.joins.filter((j) => j.topic.endsWith(session))
    const summary = (j: (typeof joins)[number]) => ({ topic: j.topic, private: j.private, sub: j.sub, accepted: j.accepted })
    expect(joins.filter((j) => j.accepted).map(summary)).toEqual(expect.arrayContaining([
      { topic: chatTopic(ALICE, session), private: true, sub: ALICE, accepted: true },
      { topic: chatTopic(BOB, session), private: true, sub: BOB, accepted: true },
    ]))
    expect(joins.filter((j) => j.accepted)).toHaveLength(2)
    expect(joins.filter((j) => !j.accepted).map(summary)).toContainEqual({ topic: chatTopic(ALICE, session), private: true, sub: BOB, accepted: false })

    const res = await f.request({ session_id: session, content: 'tell the other tab' }, { token: aliceToken })
    const done = framesOf(await res.text()).at(-1)!
    expect(done.event, done.raw).toBe('chat.done')
    await Promise.all(bookkeeping)

    expect(await alice.next((l) => 'done' in l)).toEqual({ done: done.data })
    const aliceJoin = realtime.joins.findIndex((j) => j.topic === chatTopic(ALICE, session) && j.sub === ALICE)
    expect(realtime.broadcasts.filter((b) => b.topic.endsWith(session))).toEqual([
      { topic: chatTopic(ALICE, session), event: 'chat.done', private: true, deliveredTo: [aliceJoin] },
    ])
  }, 120_000)

  it('refuses to subscribe without a signed-in user', async () => {
    const nobody = subscriber('not-a-jwt', 'session', crypto.randomUUID())
    const line = await nobody.next((l) => 'subscribed' in l || ('error' in l && l.error !== 'sign_in'))
    expect(line.error).toBe('unauthorized')
  }, 60_000)
})
