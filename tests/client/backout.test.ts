// The chat client against a server backed out to plain HTTP (CHAT_TRANSPORT=http) and with a
// tight rate limit: the same typed events from the JSON answer, and 429s waited out as told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { streamChat } from '../../shared/client/chat.ts'
import type { ChatEvent } from '../../shared/client/types.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { minuteWithRoom } from '../support/wait.ts'

const SECRET = 'client-backout-secret-at-least-32-characters'

let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({
    DATABASE_URL: db.url, JWT_SECRET: SECRET, CHAT_TRANSPORT: 'http', RATE_LIMIT_RPM: '1',
    SIM_TTFB_MS: '10', SIM_TOKENS_PER_SECOND: '2000', SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
  })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

describe('chat client, backed-out server', () => {
  it('yields open, one delta and done from the JSON answer, and retries 429 after retry-after', async () => {
    await minuteWithRoom() // RATE_LIMIT_RPM=1 counts per clock minute: the three requests share one
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const sessionId = crypto.randomUUID()
    const events: ChatEvent[] = []
    const first = streamChat({ url: server.baseUrl, getToken: () => token, session_id: sessionId, content: 'hello over http', onEvent: (e) => events.push(e) })
    const result = await first.result
    expect(events.map((e) => e.type)).toEqual(['open', 'delta', 'done'])
    expect(events[0]).toMatchObject({ type: 'open', transport: 'http', trace_id: result.trace_id })
    expect(result.transport).toBe('http')
    const [row] = await db.sql<{ content: string; status: string }[]>`select content, status from public.messages where id = ${result.done!.message_id}`
    expect(row).toEqual({ content: result.text, status: 'complete' })
    expect(result.done).toMatchObject({ finish_reason: 'stop', usage: { output_tokens: expect.any(Number) } })
    expect(result.done!.client_ttfb_ms).toBeGreaterThan(0)

    // Same user, second request this minute: 429. The client waits what retry-after says
    // (recorded here instead of slept) and gives up after its attempts.
    const raw = await fetch(`${server.baseUrl}/functions/v1/chat`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: sessionId, content: 'again' }),
    })
    expect(raw.status).toBe(429)
    const retryAfter = Number(raw.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)

    const delays: number[] = []
    const told: number[] = []
    const second = streamChat({
      url: server.baseUrl, getToken: () => token, session_id: sessionId, content: 'and again', maxAttempts: 2,
      sleep: async (ms) => { delays.push(ms) },
      fetch: async (input, init) => {
        const res = await fetch(input, init)
        told.push(Number(res.headers.get('retry-after')))
        return res
      },
    })
    const limited = await second.result
    expect(limited.error).toMatchObject({ code: 'rate_limited', status: 429, retryable: true })
    // Waited exactly what its own 429 said (the client's retry-after, however long the requests took).
    expect(told).toHaveLength(2)
    expect(delays).toEqual([told[0]! * 1000])
  })

  it('answers a bad request once, without retrying', async () => {
    let calls = 0
    const counting: typeof fetch = (input, init) => { calls++; return fetch(input, init) }
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const result = await streamChat({ url: server.baseUrl, getToken: () => token, session_id: 'not-a-uuid', content: 'x', fetch: counting }).result
    expect(result.error).toMatchObject({ code: 'invalid_request', status: 400, retryable: false, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) })
    expect(calls).toBe(1)

    const unauthorized = await streamChat({ url: server.baseUrl, getToken: () => 'forged', session_id: crypto.randomUUID(), content: 'x', fetch: counting }).result
    expect(unauthorized.error).toMatchObject({ code: 'unauthorized', status: 401, retryable: false })
    expect(calls).toBe(2)
  })
})
