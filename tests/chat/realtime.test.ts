// chat.done on the session's Realtime channel, through supabase-js, against a local stand-in
// for the Realtime broadcast API.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
let server: Server
let baseUrl: string
let status = 202
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  await db.drop()
})

const USER = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
const SERVICE_KEY = 'service-role-key-for-the-realtime-test'

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('realtime broadcast of chat.done', () => {
  const env = () => ({ REALTIME_ENABLED: 'true', SUPABASE_URL: baseUrl, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY })

  it('POSTs the done frame to /realtime/v1/api/broadcast on chat:<session_id> with the service key', async () => {
    received.length = 0
    status = 202
    const f = createChatFixture(db.sql, env())
    const session = crypto.randomUUID()
    const res = await f.request({ session_id: session, content: 'announce me' }, { token: await f.token(USER) })
    const done = framesOf(await res.text()).at(-1)!
    expect(done.event).toBe('chat.done')
    await until(() => received.length > 0)
    expect(received).toHaveLength(1)
    const [call] = received
    // supabase-js also puts apikey and the protocol version in the query string.
    expect([call.method, new URL(call.path, baseUrl).pathname]).toEqual(['POST', '/realtime/v1/api/broadcast'])
    expect(call.headers.apikey).toBe(SERVICE_KEY)
    expect(call.headers.authorization).toBe(`Bearer ${SERVICE_KEY}`)
    expect(call.body).toEqual({ messages: [{ topic: `chat:${session}`, event: 'chat.done', payload: done.data, private: false }] })
  })

  it('logs a failed broadcast and still ends the stream normally', async () => {
    received.length = 0
    status = 500
    const f = createChatFixture(db.sql, env())
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'announce me' }, { token: await f.token(USER) })
    expect(framesOf(await res.text()).at(-1)!.event).toBe('chat.done')
    await until(() => f.logs.some((l) => l.includes('realtime broadcast failed')))
    const warn = f.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'realtime broadcast failed')
    expect(warn).toMatchObject({ level: 'warn', result: 'error', trace_id: res.headers.get('x-trace-id') })
    expect(JSON.stringify(f.logs)).not.toContain(SERVICE_KEY)
  })

  it('does nothing when REALTIME_ENABLED is off', async () => {
    received.length = 0
    const f = createChatFixture(db.sql, { SUPABASE_URL: baseUrl, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY })
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'quiet' }, { token: await f.token(USER) })
    await res.text()
    await new Promise((r) => setTimeout(r, 100))
    expect(received).toHaveLength(0)
  })
})
