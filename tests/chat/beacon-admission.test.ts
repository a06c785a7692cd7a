// The client-timing beacon is a request like any other: a request span, auth, the per-user
// rate limit; it is taken once per answer, from its owner only, and a bad one is a 4xx.
import { SpanKind } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

type Fixture = ReturnType<typeof createChatFixture>
const BEACON_ROUTE = 'POST /functions/v1/chat/beacon'

async function chat(f: Fixture, user: string) {
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'time me' }, { token: await f.token(user) })
  expect(res.status).toBe(200)
  const done = framesOf(await res.text()).find((x) => x.event === 'chat.done')!
  return { traceId: res.headers.get('x-trace-id')!, streamId: res.headers.get('x-stream-id')!, messageId: done.data.message_id as string }
}

function beacon(f: Fixture, token: string | null, body: unknown, init: { method?: string; headers?: Record<string, string> } = {}) {
  return f.handler(new Request('http://local/functions/v1/chat/beacon', {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    body: init.method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  }))
}

async function timingSpans(f: Fixture, traceId: string) {
  await f.telemetry.flush()
  return db.sql<{ span_id: string; parent_span_id: string | null; user_id: string | null }[]>`
    select span_id, parent_span_id, user_id from telemetry.spans where trace_id = ${traceId} and name = 'client timing'`
}

describe('client timing beacon: admission', () => {
  it('takes one beacon per answer: the repeats are 409 and add no span', async () => {
    const f = createChatFixture(db.sql)
    const user = crypto.randomUUID()
    const c = await chat(f, user)
    const token = await f.token(user)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await beacon(f, token, { stream_id: c.streamId, trace_id: c.traceId, client_ttfb_ms: 5, client_duration_ms: 9 })
      statuses.push(res.status)
      if (res.status !== 204) expect((await res.json()).error.code).toBe('duplicate_request')
    }
    expect(statuses).toEqual([204, 409, 409, 409, 409])
    // Racing ones too: one answer, one span.
    const c2 = await chat(f, user)
    const raced = await Promise.all(Array.from({ length: 6 }, () =>
      beacon(f, token, { stream_id: c2.streamId, trace_id: c2.traceId, client_ttfb_ms: 1, client_duration_ms: 2 }).then((r) => r.status)))
    expect(raced.sort()).toEqual([204, 409, 409, 409, 409, 409])

    const [first] = await timingSpans(f, c.traceId)
    expect(await timingSpans(f, c.traceId)).toHaveLength(1)
    expect(await timingSpans(f, c2.traceId)).toHaveLength(1)
    const [request] = await db.sql`select span_id from telemetry.spans where trace_id = ${c.traceId} and name = 'POST /functions/v1/chat'`
    expect(first.parent_span_id).toBe(request.span_id)
    expect(first.user_id).toBe(user)
  })

  it('counts against the per-user rate limit like every request', async () => {
    const f = createChatFixture(db.sql, { RATE_LIMIT_RPM: '3' })
    const user = crypto.randomUUID()
    const c = await chat(f, user) // request 1 of 3
    const token = await f.token(user)
    const body = { stream_id: c.streamId, trace_id: c.traceId, client_ttfb_ms: 5, client_duration_ms: 9 }
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await beacon(f, token, body)).status)
    expect(statuses).toEqual([204, 409, 429, 429])
    expect(await timingSpans(f, c.traceId)).toHaveLength(1)
  })

  it('has a request span of its own (auth, rate limit) that the dashboard does not count as a chat', async () => {
    const f = createChatFixture(db.sql, { RATE_LIMIT_RPM: '100' })
    const user = crypto.randomUUID()
    const c = await chat(f, user)
    const res = await beacon(f, await f.token(user), { stream_id: c.streamId, trace_id: c.traceId, client_ttfb_ms: 5, client_duration_ms: 9 })
    expect(res.status).toBe(204)
    const traceId = res.headers.get('x-trace-id')!
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(traceId).not.toBe(c.traceId)
    await f.telemetry.flush()
    const spans = await db.sql`select span_id, parent_span_id, name, kind, function, user_id, http_status from telemetry.spans where trace_id = ${traceId}`
    const root = spans.find((s) => s.name === BEACON_ROUTE)!
    expect(root).toMatchObject({ kind: 'server', function: null, user_id: user, http_status: 204 })
    expect(spans.filter((s) => s.parent_span_id === root.span_id).map((s) => s.name).sort())
      .toEqual(['auth verify_jwt', 'insert chat_beacons', 'insert trace_owners', 'rate_limit check'])
    // The timing itself is on the chat's trace, linked to the beacon's request.
    const timing = f.memory.getFinishedSpans().find((s) => s.name === 'client timing' && s.spanContext().traceId === c.traceId)!
    expect(timing.links.map((l) => l.context.spanId)).toEqual([root.span_id])
  })

  it('answers a bad beacon with a 4xx and records nothing on the chat', async () => {
    const f = createChatFixture(db.sql)
    const owner = crypto.randomUUID()
    const c = await chat(f, owner)
    const token = await f.token(owner)
    const other = await f.token(crypto.randomUUID())
    const ok = { stream_id: c.streamId, trace_id: c.traceId, client_ttfb_ms: 5, client_duration_ms: 9 }
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['not JSON', () => beacon(f, token, '{"stream_id":'), 400, 'invalid_json'],
      ['an array', () => beacon(f, token, [ok]), 400, 'invalid_request'],
      ['null', () => beacon(f, token, null), 400, 'invalid_request'],
      ['TTFB after the end', () => beacon(f, token, { ...ok, client_ttfb_ms: 50 }), 400, 'invalid_request'],
      ['no stream id', () => beacon(f, token, { client_ttfb_ms: 5, client_duration_ms: 9 }), 400, 'invalid_request'],
      ['a stream id that is not a string', () => beacon(f, token, { ...ok, stream_id: 42 }), 400, 'invalid_request'],
      ['a malformed stream id', () => beacon(f, token, { ...ok, stream_id: 'nope' }), 400, 'invalid_request'],
      ['a stream id of nobody', () => beacon(f, token, { ...ok, stream_id: crypto.randomUUID() }), 404, 'not_found'],
      ['a negative TTFB', () => beacon(f, token, { ...ok, client_ttfb_ms: -1 }), 400, 'invalid_request'],
      ['no duration', () => beacon(f, token, { stream_id: c.streamId, trace_id: c.traceId, client_ttfb_ms: 5 }), 400, 'invalid_request'],
      ['a duration as a string', () => beacon(f, token, { ...ok, client_duration_ms: '9' }), 400, 'invalid_request'],
      ['a huge body', () => beacon(f, token, { ...ok, pad: 'x'.repeat(10_000) }), 413, 'content_too_large'],
      ['the wrong content type', () => beacon(f, token, ok, { headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
      ['GET', () => beacon(f, token, undefined, { method: 'GET' }), 405, 'method_not_allowed'],
      ['no token', () => beacon(f, null, ok), 401, 'unauthorized'],
      ['a forged token', () => beacon(f, `${token.slice(0, -3)}xyz`, ok), 401, 'unauthorized'],
      ['another user’s answer', () => beacon(f, other, { ...ok, trace_id: undefined }), 404, 'not_found'],
      ['another user’s trace (older clients name it)', () => beacon(f, other, { trace_id: c.traceId, client_ttfb_ms: 5, client_duration_ms: 9 }), 404, 'not_found'],
    ]
    for (const [name, send, status, code] of cases) {
      const res = await send()
      expect({ name, status: res.status }).toEqual({ name, status })
      const body = await res.json()
      expect(body).toEqual({ error: { code, message: expect.any(String), trace_id: res.headers.get('x-trace-id') } })
      expect(body.error.trace_id).not.toBe(c.traceId)
    }
    expect(await timingSpans(f, c.traceId)).toHaveLength(0)
    // The owner's good beacon still goes through afterwards: refusals did not use it up.
    expect((await beacon(f, token, ok)).status).toBe(204)
    expect(await timingSpans(f, c.traceId)).toHaveLength(1)
    // Every one of them, refused or not, had its request span (not on the chat's trace).
    const roots = f.memory.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/functions/v1/chat/beacon')
    expect(roots.length).toBe(cases.length + 1)
    expect(roots.filter((s) => s.spanContext().traceId === c.traceId)).toEqual([])
  })

  it('still takes the trace id older clients send, for the caller’s own latest answer', async () => {
    const f = createChatFixture(db.sql)
    const user = crypto.randomUUID()
    const c = await chat(f, user)
    const res = await beacon(f, await f.token(user), { trace_id: c.traceId, client_ttfb_ms: null, client_duration_ms: 9 })
    expect(res.status).toBe(204)
    expect(await timingSpans(f, c.traceId)).toHaveLength(1)
  })
})
