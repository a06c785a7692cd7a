// chat.done on the user's private Realtime channel, through the handler, against a local
// stand-in for Realtime's HTTP broadcast API. Each chat's bookkeeping (where the broadcast is
// sent) is awaited through waitUntil, so nothing here waits for a time to pass.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatTopic } from '../../shared/realtime.ts'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
let server: Server
let baseUrl: string
let status = 202
let upgrades = 0
const received: { method: string; path: string; headers: IncomingHttpHeaders; body: any }[] = []

beforeAll(async () => {
  db = await freshDatabase()
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => { body += d })
    req.on('end', () => {
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body: body ? JSON.parse(body) : undefined })
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '' : '{"message":"boom"}')
    })
  })
  server.on('upgrade', (_req, socket) => { upgrades++; socket.destroy() })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  await db.drop()
})

const ALICE = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
const BOB = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'
const SERVICE_KEY = 'service-role-key-for-the-realtime-test'

function fixture(env: Record<string, string> = { REALTIME_ENABLED: 'true', SUPABASE_URL: baseUrl, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY }) {
  const bookkeeping: Promise<unknown>[] = []
  const f = createChatFixture(db.sql, env, undefined, { waitUntil: (work) => { bookkeeping.push(work) } })
  /** One chat to its end, bookkeeping (the broadcast) included. */
  async function chat(user: string, session: string) {
    const res = await f.request({ session_id: session, content: 'announce me' }, { token: await f.token(user) })
    const frames = framesOf(await res.text())
    await Promise.all(bookkeeping)
    return { res, done: frames.at(-1)! }
  }
  return { ...f, chat }
}

describe('realtime broadcast of chat.done', () => {
  it("POSTs the done frame to /realtime/v1/api/broadcast on the user's private topic, with the service key", async () => {
    received.length = 0
    status = 202
    const session = crypto.randomUUID()
    const { done } = await fixture().chat(ALICE, session)
    expect(done.event).toBe('chat.done')
    expect(received).toHaveLength(1)
    const [call] = received
    expect([call.method, call.path]).toEqual(['POST', '/realtime/v1/api/broadcast'])
    expect(call.headers.apikey).toBe(SERVICE_KEY)
    expect(call.headers.authorization).toBe(`Bearer ${SERVICE_KEY}`)
    expect(call.headers['content-type']).toBe('application/json')
    expect(call.body).toEqual({
      messages: [{ topic: `chat:${ALICE}:${session}`, event: 'chat.done', payload: done.data, private: true }],
    })
    expect(chatTopic(ALICE, session)).toBe(`chat:${ALICE}:${session}`)
  })

  it("never announces on a public channel or on a topic another user of the same session id can join", async () => {
    received.length = 0
    status = 202
    const f = fixture()
    const shared = crypto.randomUUID()
    await f.chat(ALICE, shared)
    await f.chat(BOB, shared)
    await f.chat(ALICE, crypto.randomUUID())
    const messages = received.flatMap((r) => r.body.messages)
    expect(messages).toHaveLength(3)
    for (const m of messages) expect(m.private).toBe(true)
    expect(messages.map((m) => m.topic)).toEqual([chatTopic(ALICE, shared), chatTopic(BOB, shared), expect.stringMatching(`^chat:${ALICE}:`)])
    expect(messages.map((m) => m.topic)).not.toContain(`chat:${shared}`)
    // HTTP only: no WebSocket is ever opened from the function.
    expect(upgrades).toBe(0)
    expect(received.every((r) => r.path === '/realtime/v1/api/broadcast')).toBe(true)
  })

  it('logs a failed broadcast and still ends the stream normally', async () => {
    received.length = 0
    status = 500
    const f = fixture()
    const session = crypto.randomUUID()
    const { res, done } = await f.chat(ALICE, session)
    expect(done.event).toBe('chat.done')
    const warn = f.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'realtime broadcast failed')
    expect(warn).toMatchObject({ level: 'warn', status: 500, topic: chatTopic(ALICE, session), trace_id: res.headers.get('x-trace-id') })
    expect(JSON.stringify(f.logs)).not.toContain(SERVICE_KEY)
  })

  it('logs an unreachable Realtime and still ends the stream normally', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`
    await new Promise<void>((r) => closed.close(() => r()))
    const f = fixture({ REALTIME_ENABLED: 'true', SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY })
    const { done } = await f.chat(ALICE, crypto.randomUUID())
    expect(done.event).toBe('chat.done')
    const warn = f.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'realtime broadcast failed')
    expect(warn).toMatchObject({ level: 'warn', error: expect.any(String) })
    expect(JSON.stringify(f.logs)).not.toContain(SERVICE_KEY)
  })

  it('does nothing when REALTIME_ENABLED is off', async () => {
    received.length = 0
    const { done } = await fixture({ SUPABASE_URL: baseUrl, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY }).chat(ALICE, crypto.randomUUID())
    expect(done.event).toBe('chat.done')
    expect(received).toHaveLength(0)
  })
})
