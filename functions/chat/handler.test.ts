import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { SignJWT } from 'jose'
import { createChatFixture, framesOf, TEST_SECRET } from '../../tests/support/chat-fixture.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '11111111-2222-4333-8444-555555555555'
const SESSION = '99999999-8888-4777-8666-555555555555'

describe('chat handler', () => {
  it('streams deltas then done, with trace headers, and stores both messages', async () => {
    const f = createChatFixture(db.sql)
    const res = await f.request({ session_id: SESSION, content: 'hello there' }, { token: await f.token(USER) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(res.headers.get('x-heartbeat-seconds')).toBe('15') // the default HEARTBEAT_SECONDS: clients size their idle timeout on it
    const traceId = res.headers.get('x-trace-id')!
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))

    const text = await res.text()
    expect(text).not.toContain('\r')
    const frames = framesOf(text)
    const deltas = frames.filter((x) => x.event === 'chat.delta')
    const done = frames.at(-1)!
    expect(deltas.length).toBeGreaterThanOrEqual(5)
    deltas.forEach((d, i) => {
      expect(d.id).toBe(String(i + 1))
      expect(d.data).toEqual({ trace_id: traceId, seq: i + 1, delta: expect.any(String) })
    })
    expect(done.event).toBe('chat.done')
    expect(Object.keys(done.data).sort()).toEqual(['duration_ms', 'finish_reason', 'message_id', 'trace_id', 'ttfb_ms', 'usage'])
    expect(done.data.usage).toEqual({ input_tokens: expect.any(Number), output_tokens: deltas.length })
    expect(done.data.ttfb_ms).toBeGreaterThan(0)
    expect(done.data.duration_ms).toBeGreaterThanOrEqual(done.data.ttfb_ms)

    const rows = await db.sql`select id, role, content, status, trace_id, user_id from messages where trace_id = ${traceId} order by created_at`
    expect(rows.map((r) => r.role)).toEqual(['user', 'assistant'])
    expect(rows[0].content).toBe('hello there')
    expect(rows[1].content).toBe(deltas.map((d) => d.data.delta).join(''))
    expect(rows[1].id).toBe(done.data.message_id)
    expect(rows[1].status).toBe('complete')
    expect(rows.every((r) => r.user_id === USER)).toBe(true)
  })

  it('writes the request, provider and database spans to Postgres, parented correctly', async () => {
    const f = createChatFixture(db.sql)
    const res = await f.request({ session_id: SESSION, content: 'trace me' }, { token: await f.token(USER) })
    const traceId = res.headers.get('x-trace-id')!
    await res.text()
    await f.telemetry.flush()
    const spans = await db.sql`select * from telemetry.spans where trace_id = ${traceId} order by start_time`
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]))
    const root = byName['POST /functions/v1/chat']
    expect(root).toBeDefined()
    expect(root.kind).toBe('server')
    expect(root.parent_span_id).toBeNull()
    expect(root.function).toBe('chat')
    expect(root.user_id).toBe(USER)
    expect(root.ttfb_ms).toBeGreaterThan(0)
    expect(root.attributes['streamscope.stream.end_reason']).toBe('done')
    const provider = byName['chat sim-1']
    expect(provider.kind).toBe('client')
    expect(provider.parent_span_id).toBe(root.span_id)
    expect(provider.attributes['gen_ai.operation.name']).toBe('chat')
    expect(provider.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
    expect(provider.events.map((e: { name: string }) => e.name)).toContain('first_token')
    const inserts = spans.filter((s) => s.name === 'insert messages')
    expect(inserts).toHaveLength(2)
    expect(inserts.every((s) => s.parent_span_id === root.span_id)).toBe(true)
    const logs = await db.sql`select level, message, span_id from telemetry.logs where trace_id = ${traceId}`
    expect(logs.map((l) => l.message)).toContain('chat stream ended')
  })

  it('continues the caller trace from traceparent', async () => {
    const f = createChatFixture(db.sql)
    const parent = '0af7651916cd43dd8448eb211c80319c'
    const res = await f.request({ session_id: SESSION, content: 'x' }, {
      token: await f.token(USER), headers: { traceparent: `00-${parent}-b7ad6b7169203331-01` },
    })
    await res.text()
    expect(res.headers.get('x-trace-id')).toBe(parent)
    await f.telemetry.flush()
    const [root] = await db.sql`select parent_span_id from telemetry.spans where trace_id = ${parent} and kind = 'server'`
    expect(root.parent_span_id).toBe('b7ad6b7169203331')
  })

  it('sends the session history to the provider', async () => {
    const seen: string[][] = []
    const f = createChatFixture(db.sql, {}, {
      name: 'recording',
      async *stream(req) {
        seen.push(req.messages.map((m) => `${m.role}:${m.content}`))
        yield { type: 'delta', text: 'ok' }
        yield { type: 'done', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 1, estimated: false }, response_model: req.model }
      },
    })
    const session = crypto.randomUUID()
    const token = await f.token(USER)
    await (await f.request({ session_id: session, content: 'first' }, { token })).text()
    await (await f.request({ session_id: session, content: 'second' }, { token })).text()
    expect(seen[1]).toEqual(['user:first', 'assistant:ok', 'user:second'])
  })

  it('ends with an error frame and stores what was generated when the provider fails mid-stream', async () => {
    const f = createChatFixture(db.sql, { SIM_MID_STREAM_FAILURE_RATE: '1', SIM_MIN_TOKENS: '10', SIM_MAX_TOKENS: '10' })
    const res = await f.request({ session_id: SESSION, content: 'fail please' }, { token: await f.token(USER) })
    const frames = framesOf(await res.text())
    const last = frames.at(-1)!
    expect(last.event).toBe('error')
    expect(last.data).toEqual({ trace_id: res.headers.get('x-trace-id'), code: 'provider_stream_error', message: expect.any(String) })
    expect(frames.some((x) => x.event === 'chat.done')).toBe(false)
    const [msg] = await db.sql`select status, content from messages where trace_id = ${res.headers.get('x-trace-id')} and role = 'assistant'`
    expect(msg.status).toBe('error')
    expect(msg.content).toBe(frames.filter((x) => x.event === 'chat.delta').map((x) => x.data.delta).join(''))
  })

  it('aborts the provider and stores a cut message when the client goes away', async () => {
    let aborted = false
    const f = createChatFixture(db.sql, { RESUME_GRACE_SECONDS: '0' }, {
      name: 'endless',
      async *stream(req) {
        req.signal.addEventListener('abort', () => { aborted = true })
        for (let i = 0; ; i++) {
          await new Promise((r) => setTimeout(r, 5))
          if (req.signal.aborted) return
          yield { type: 'delta', text: `t${i} ` }
        }
      },
    })
    const res = await f.request({ session_id: SESSION, content: 'go on forever' }, { token: await f.token(USER) })
    const reader = res.body!.getReader()
    await reader.read()
    await reader.read()
    await reader.cancel()
    expect(aborted).toBe(true)
    const traceId = res.headers.get('x-trace-id')
    const [msg] = await db.sql`select status, content from messages where trace_id = ${traceId} and role = 'assistant'`
    expect(msg.status).toBe('cut')
    expect(msg.content).toBe('t0 t1 ')
  })
})

describe('chat handler: bad requests', () => {
  // A user of its own: the rest of this file's chats must not show up in its rate-limit row.
  const USER = 'b0b0b0b0-1111-4222-8333-444444444444'
  type Fixture = ReturnType<typeof createChatFixture>
  const sign = (claims: { aud?: string; alg?: string; sub?: string }) => {
    const jwt = new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg: claims.alg ?? 'HS256' })
      .setSubject(claims.sub ?? USER).setAudience(claims.aud ?? 'authenticated').setExpirationTime('1h')
    return jwt.sign(new TextEncoder().encode(TEST_SECRET))
  }
  const ok = { session_id: SESSION, content: 'x' }
  const cases: [string, (f: Fixture, token: string) => Promise<Response>, number, string][] = [
    ['no token', (f) => f.request(ok), 401, 'unauthorized'],
    ['not a Bearer header', (f) => f.request(ok, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'unauthorized'],
    ['malformed token', (f) => f.request(ok, { token: 'a.b.c' }), 401, 'unauthorized'],
    ['forged token', async (f) => f.request(ok, { token: `${(await f.token(USER)).slice(0, -3)}xyz` }), 401, 'unauthorized'],
    ['expired token', async (f) => f.request(ok, { token: await f.token(USER, -120) }), 401, 'unauthorized'],
    ['wrong audience', async (f) => f.request(ok, { token: await sign({ aud: 'anon' }) }), 401, 'unauthorized'],
    ['wrong algorithm (HS512)', async (f) => f.request(ok, { token: await sign({ alg: 'HS512' }) }), 401, 'unauthorized'],
    ['sub not a user id', async (f) => f.request(ok, { token: await sign({ sub: 'service' }) }), 401, 'unauthorized'],
    ['wrong method', (f, t) => f.request(undefined, { token: t, method: 'GET' }), 405, 'method_not_allowed'],
    ['wrong method (PUT)', (f, t) => f.request(ok, { token: t, method: 'PUT' }), 405, 'method_not_allowed'],
    ['wrong content type', (f, t) => f.request('x', { token: t, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
    ['form content type', (f, t) => f.request('a=b', { token: t, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
    ['invalid JSON', (f, t) => f.request('{"session_id":', { token: t }), 400, 'invalid_json'],
    ['empty body', (f, t) => f.request('', { token: t }), 400, 'invalid_json'],
    ['body not UTF-8', (f, t) => f.handler(new Request('http://local/functions/v1/chat', {
      method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    })), 400, 'invalid_json'],
    ['null body', (f, t) => f.request('null', { token: t }), 400, 'invalid_request'],
    ['array body', (f, t) => f.request([1], { token: t }), 400, 'invalid_request'],
    ['missing session', (f, t) => f.request({ content: 'x' }, { token: t }), 400, 'invalid_request'],
    ['session not a string', (f, t) => f.request({ session_id: 42, content: 'x' }, { token: t }), 400, 'invalid_request'],
    ['non-UUID session', (f, t) => f.request({ session_id: 'abc', content: 'x' }, { token: t }), 400, 'invalid_request'],
    ['missing content', (f, t) => f.request({ session_id: SESSION }, { token: t }), 400, 'invalid_request'],
    ['content not a string', (f, t) => f.request({ session_id: SESSION, content: 42 }, { token: t }), 400, 'invalid_request'],
    ['content with a NUL character', (f, t) => f.request({ session_id: SESSION, content: 'a\u0000b' }, { token: t }), 400, 'invalid_request'],
    ['empty content', (f, t) => f.request({ session_id: SESSION, content: '  ' }, { token: t }), 400, 'invalid_request'],
    ['oversize content', (f, t) => f.request({ session_id: SESSION, content: 'x'.repeat(101) }, { token: t }), 413, 'content_too_large'],
    ['model not a string', (f, t) => f.request({ ...ok, model: ['sim-1'] }, { token: t }), 400, 'invalid_request'],
    ['unknown model', (f, t) => f.request({ ...ok, model: 'gpt-9-ultra' }, { token: t }), 400, 'unknown_model'],
    ['max_tokens zero', (f, t) => f.request({ ...ok, max_tokens: 0 }, { token: t }), 400, 'invalid_request'],
    ['max_tokens negative', (f, t) => f.request({ ...ok, max_tokens: -5 }, { token: t }), 400, 'invalid_request'],
    ['max_tokens fractional', (f, t) => f.request({ ...ok, max_tokens: 1.5 }, { token: t }), 400, 'invalid_request'],
    ['max_tokens a string', (f, t) => f.request({ ...ok, max_tokens: '10' }, { token: t }), 400, 'invalid_request'],
    ['oversize body (declared)', (f, t) => f.request('{}', { token: t, headers: { 'content-length': '5000000' } }), 413, 'content_too_large'],
    ['oversize body (read)', (f, t) => f.request(JSON.stringify({ ...ok, pad: 'x'.repeat(5_000_000) }), { token: t }), 413, 'content_too_large'],
    ['Last-Event-ID without x-resume-trace-id', (f, t) => f.request(ok, { token: t, headers: { 'last-event-id': '3' } }), 400, 'invalid_request'],
    ['malformed x-resume-trace-id', (f, t) => f.request(ok, { token: t, headers: { 'x-resume-trace-id': 'nope' } }), 400, 'invalid_request'],
    ['resume of an unknown stream', (f, t) => f.request(ok, { token: t, headers: { 'x-resume-trace-id': 'f'.repeat(32), 'last-event-id': '0' } }), 410, 'stream_gone'],
  ]
  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}, nothing stored, nothing counted`, async () => {
      const f = createChatFixture(db.sql, { MAX_CONTENT_CHARS: '100', MODEL_ALLOWLIST: 'sim-1,sim-2' })
      const res = await send(f, await f.token(USER))
      expect(res.status).toBe(status)
      const body = await res.json()
      const traceId = res.headers.get('x-trace-id')
      expect(body).toEqual({ error: { code, message: expect.any(String), trace_id: traceId } })
      expect(res.headers.get('x-chat-transport')).toBe('sse')
      const [{ n }] = await db.sql`select count(*)::int as n from messages where trace_id = ${traceId}`
      expect(n).toBe(0)
      // Every rejection here happens before the rate limit: nothing is charged for it.
      expect(await db.sql`select 1 from public.rate_limits where user_id = ${USER}`).toHaveLength(0)
    })
  }

  it('refuses a multi-MB chunked body (no content-length) without reading all of it', async () => {
    const f = createChatFixture(db.sql)
    let pulled = 0
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    const body = new ReadableStream<Uint8Array>({
      start(c) { c.enqueue(new TextEncoder().encode('{"session_id":"' + SESSION + '","content":"')) },
      pull(c) { pulled += chunk.byteLength; if (pulled > 64 * 1024 * 1024) c.close(); else c.enqueue(chunk) },
    })
    const res = await f.handler(new Request('http://local/functions/v1/chat', {
      method: 'POST', body, duplex: 'half',
      headers: { authorization: `Bearer ${await f.token(USER)}`, 'content-type': 'application/json' },
    } as RequestInit))
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('content_too_large')
    // The limit for MAX_CONTENT_CHARS=32000 is ~256 KiB; a few chunks past it at most.
    expect(pulled).toBeLessThan(1024 * 1024)
  })

  it('accepts an allowed model and caps max_tokens at MAX_OUTPUT_TOKENS', async () => {
    const seen: { model: string; maxTokens: number }[] = []
    const f = createChatFixture(db.sql, { MODEL_ALLOWLIST: 'sim-1,sim-2', MAX_OUTPUT_TOKENS: '50' }, {
      name: 'recording',
      async *stream(req) {
        seen.push({ model: req.model, maxTokens: req.maxTokens })
        yield { type: 'done', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 0, estimated: false }, response_model: req.model }
      },
    })
    const token = await f.token(USER)
    await (await f.request({ ...ok, session_id: crypto.randomUUID(), model: 'sim-2', max_tokens: 10_000 }, { token })).text()
    await (await f.request({ ...ok, session_id: crypto.randomUUID(), max_tokens: 7 }, { token })).text()
    expect(seen).toEqual([{ model: 'sim-2', maxTokens: 50 }, { model: 'sim-1', maxTokens: 7 }])
  })
})

describe('chat handler: Idempotency-Key', () => {
  it('answers a repeat with the first request’s stream and stores the question once', async () => {
    const f = createChatFixture(db.sql)
    const token = await f.token(USER)
    const session = crypto.randomUUID()
    const key = crypto.randomUUID()
    const first = await f.request({ session_id: session, content: 'only once' }, { token, headers: { 'idempotency-key': key } })
    const firstText = await first.text()
    const again = await f.request({ session_id: session, content: 'only once' }, { token, headers: { 'idempotency-key': key } })
    expect(again.status).toBe(200)
    expect(again.headers.get('x-trace-id')).toBe(first.headers.get('x-trace-id'))
    const deltas = (text: string) => framesOf(text).filter((x) => x.event === 'chat.delta').map((x) => x.data.delta).join('')
    expect(deltas(await again.text())).toBe(deltas(firstText))
    const [{ n }] = await db.sql`select count(*)::int as n from messages where session_id = ${session} and role = 'user'`
    expect(n).toBe(1)
  })

  it('refuses a reused key whose stream is not held, and a malformed key', async () => {
    const f = createChatFixture(db.sql, { RESUME_RETENTION_SECONDS: '0' })
    const token = await f.token(USER)
    const key = crypto.randomUUID()
    await (await f.request({ session_id: SESSION, content: 'x' }, { token, headers: { 'idempotency-key': key } })).text()
    const again = await f.request({ session_id: SESSION, content: 'x' }, { token, headers: { 'idempotency-key': key } })
    expect(again.status).toBe(409)
    expect((await again.json()).error.code).toBe('duplicate_request')
    const bad = await f.request({ session_id: SESSION, content: 'x' }, { token, headers: { 'idempotency-key': 'has spaces' } })
    expect(bad.status).toBe(400)
  })
})
