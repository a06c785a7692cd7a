// The backout flag (chat_transport) and the one-document JSON answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderError } from '../../functions/providers/types.ts'
import { createChatFixture, createManualProvider, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a'
const setFlag = (value: string) => db.sql`update public.feature_flags set value = ${value}, updated_by = 'test' where key = 'chat_transport'`

describe('chat transport', () => {
  it('answers one JSON document when the client accepts only JSON, stored and traced like a stream', async () => {
    const f = createChatFixture(db.sql, { FLAG_CACHE_SECONDS: '0' })
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'json please' }, {
      token: await f.token(USER), headers: { accept: 'application/json' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('x-chat-transport')).toBe('http')
    const traceId = res.headers.get('x-trace-id')!
    const body = await res.json()
    expect(Object.keys(body).sort()).toEqual(['content', 'duration_ms', 'finish_reason', 'message_id', 'trace_id', 'ttfb_ms', 'usage'])
    expect(body).toMatchObject({ trace_id: traceId, finish_reason: 'stop', usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) } })
    expect(body.duration_ms).toBeGreaterThanOrEqual(body.ttfb_ms)
    const stored = await db.sql`select id, role, content, status from messages where trace_id = ${traceId} order by created_at`
    expect(stored.map((r) => r.role)).toEqual(['user', 'assistant'])
    expect(stored[1]).toMatchObject({ id: body.message_id, content: body.content, status: 'complete' })
    await f.telemetry.flush()
    const [root] = await db.sql`select attributes from telemetry.spans where trace_id = ${traceId} and kind = 'server'`
    expect(root.attributes['streamscope.chat.transport']).toBe('http')
    expect(root.attributes['streamscope.stream.end_reason']).toBe('done')
  })

  it('follows the database flag (read through a short cache) and says which transport on every answer', async () => {
    const f = createChatFixture(db.sql, { FLAG_CACHE_SECONDS: '0' })
    const token = await f.token(USER)
    const ask = (headers: Record<string, string> = {}) => f.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token, headers })
    try {
      const sse = await ask()
      expect([sse.headers.get('x-chat-transport'), sse.headers.get('content-type')]).toEqual(['sse', 'text/event-stream; charset=utf-8'])
      await sse.text()
      await setFlag('http')
      const http = await ask({ accept: 'text/event-stream' }) // the flag is a kill switch: it wins over Accept
      expect([http.headers.get('x-chat-transport'), http.headers.get('content-type')]).toEqual(['http', 'application/json'])
      expect((await http.json()).content).toEqual(expect.any(String))
      const rejected = await f.request({ session_id: 'nope', content: 'hi' }, { token })
      expect([rejected.status, rejected.headers.get('x-chat-transport')]).toEqual([400, 'http'])
      await rejected.json()
    } finally {
      await setFlag('sse')
    }
    const cached = createChatFixture(db.sql, { FLAG_CACHE_SECONDS: '60' })
    const warm = await cached.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token })
    expect(warm.headers.get('x-chat-transport')).toBe('sse')
    await warm.text()
    await setFlag('http')
    try {
      const still = await cached.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token })
      expect(still.headers.get('x-chat-transport')).toBe('sse') // within the cache time
      await still.text()
    } finally {
      await setFlag('sse')
    }
  })

  it('lets the environment override the flag', async () => {
    const f = createChatFixture(db.sql, { CHAT_TRANSPORT: 'http' })
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token: await f.token(USER) })
    expect(res.headers.get('x-chat-transport')).toBe('http')
    expect((await res.json()).message_id).toEqual(expect.any(String))
  })

  it('turns a provider failure into 502 JSON with the provider code, and stores the error', async () => {
    const manual = createManualProvider()
    const f = createChatFixture(db.sql, {}, manual.provider)
    manual.delta('partial')
    manual.fail(new ProviderError('provider_rate_limited', 'upstream rate limit', 429, 7))
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token: await f.token(USER), headers: { accept: 'application/json' } })
    const traceId = res.headers.get('x-trace-id')!
    expect(res.status).toBe(502)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(await res.json()).toEqual({ error: { code: 'provider_rate_limited', message: 'upstream rate limit', trace_id: traceId } })
    const [answer] = await db.sql`select status, content from messages where trace_id = ${traceId} and role = 'assistant'`
    expect(answer).toEqual({ status: 'error', content: 'partial' })
  })

  it('keeps SSE for clients that accept both, or anything', async () => {
    const f = createChatFixture(db.sql)
    const token = await f.token(USER)
    for (const accept of ['text/event-stream, application/json', '*/*', 'application/json;q=0.5, text/event-stream']) {
      const res = await f.request({ session_id: crypto.randomUUID(), content: 'hi' }, { token, headers: { accept } })
      expect(res.headers.get('x-chat-transport')).toBe('sse')
      expect(framesOf(await res.text()).at(-1)!.event).toBe('chat.done')
    }
  })
})
