// The client-TTFB beacon: the client library reports what it saw, and the chat's trace
// gets a `client timing` span beside the server's request span — only for the chat's owner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { streamChat } from '../../shared/client/chat.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const SECRET = 'beacon-secret-that-is-at-least-32-characters'
let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({
    DATABASE_URL: db.url, JWT_SECRET: SECRET,
    SIM_TTFB_MS: '30', SIM_TOKENS_PER_SECOND: '2000', SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
  })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

async function spansOf(traceId: string, name: string) {
  const rows = () => db.sql`select span_id, parent_span_id, attributes from telemetry.spans where trace_id = ${traceId} and name = ${name}`
  return until(async () => { const r = await rows(); return r.length > 0 && r }, `a ${name} span`).catch(() => rows())
}

describe('client timing beacon', () => {
  it('records the client TTFB as a child of the chat request span', async () => {
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const { result } = streamChat({
      url: server.baseUrl, getToken: () => token, session_id: crypto.randomUUID(), content: 'time me',
      beaconUrl: `${server.baseUrl}/functions/v1/chat/beacon`,
    })
    const { trace_id, done } = await result
    const [timing] = await spansOf(trace_id!, 'client timing')
    const [request] = await spansOf(trace_id!, 'POST /functions/v1/chat')
    expect(timing).toBeDefined()
    expect(timing.parent_span_id).toBe(request.span_id)
    expect(timing.attributes['streamscope.client.ttfb_ms']).toBe(done!.client_ttfb_ms)
    expect(timing.attributes['streamscope.client.ttfb_ms']).toBeGreaterThanOrEqual(30)
  })

  it('refuses timings for another user’s trace, bad values and missing auth', async () => {
    const owner = await signUserToken(SECRET, crypto.randomUUID())
    const { result } = streamChat({ url: server.baseUrl, getToken: () => owner, session_id: crypto.randomUUID(), content: 'mine' })
    const { trace_id } = await result
    const post = async (token: string | null, body: unknown) => fetch(`${server.baseUrl}/functions/v1/chat/beacon`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    const other = await signUserToken(SECRET, crypto.randomUUID())
    const cases: [string | null, unknown, number, string][] = [
      [other, { trace_id, client_ttfb_ms: 5, client_duration_ms: 9 }, 404, 'not_found'],
      [null, { trace_id, client_ttfb_ms: 5, client_duration_ms: 9 }, 401, 'unauthorized'],
      [owner, { trace_id: 'nope', client_ttfb_ms: 5, client_duration_ms: 9 }, 400, 'invalid_request'],
      [owner, { trace_id, client_ttfb_ms: -1, client_duration_ms: 9 }, 400, 'invalid_request'],
      [owner, { trace_id, client_ttfb_ms: 5 }, 400, 'invalid_request'],
    ]
    for (const [token, body, status, code] of cases) {
      const res = await post(token, body)
      expect(res.status).toBe(status)
      expect((await res.json()).error.code).toBe(code)
    }
    const ok = await post(owner, { trace_id, client_ttfb_ms: null, client_duration_ms: 9 })
    expect(ok.status).toBe(204)
  })

  it('answers 404 for an unknown sub-path of the chat function', async () => {
    const res = await fetch(`${server.baseUrl}/functions/v1/chat/nothing-here`, { method: 'POST' })
    expect(res.status).toBe(404)
    expect((await res.json()).error.code).toBe('not_found')
  })
})
