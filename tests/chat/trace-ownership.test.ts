// A caller's traceparent is its word, not an id: another user's trace id in it must not put the
// caller's spans, logs or messages on that trace, nor hand it that trace's answer; the server's
// own stream id keys every stored answer and every resume.
import { SpanKind } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmbedFixture } from '../embed/fixture.ts'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

type Fixture = ReturnType<typeof createChatFixture>
const A = 'a1a1a1a1-1111-4111-8111-111111111111'
const B = 'b2b2b2b2-2222-4222-8222-222222222222'
const traceparent = (traceId: string) => `00-${traceId}-00f067aa0ba902b7-01`
const newTraceId = () => crypto.randomUUID().replaceAll('-', '')

/** One whole chat: its headers, its chat.done frame and the text streamed. */
async function chat(f: Fixture, user: string, content: string, headers: Record<string, string> = {}) {
  const res = await f.request({ session_id: crypto.randomUUID(), content }, { token: await f.token(user), headers })
  expect(res.status).toBe(200)
  const frames = framesOf(await res.text())
  const done = frames.find((x) => x.event === 'chat.done')!
  expect(done).toBeDefined()
  return {
    traceId: res.headers.get('x-trace-id')!,
    streamId: res.headers.get('x-stream-id'),
    messageId: done.data.message_id as string,
    text: frames.filter((x) => x.event === 'chat.delta').map((x) => x.data.delta).join(''),
  }
}

/** Everything stored under a trace id, once the telemetry is written. */
async function storedUnder(f: Fixture, traceId: string) {
  await f.telemetry.flush()
  const spans = await db.sql<{ name: string; user_id: string | null }[]>`
    select name, user_id from telemetry.spans where trace_id = ${traceId} order by start_time`
  const logs = await db.sql<{ message: string; attributes: Record<string, unknown> }[]>`
    select message, attributes from telemetry.logs where trace_id = ${traceId}`
  const messages = await db.sql<{ id: string; user_id: string; role: string }[]>`
    select id::text as id, user_id::text as user_id, role from public.messages where trace_id = ${traceId}`
  return { spans, logs, messages }
}

describe('a caller’s traceparent naming another user’s trace', () => {
  it('gives the caller a trace and an answer of their own; nothing of theirs lands on the other trace', async () => {
    const f = createChatFixture(db.sql)
    const a = await chat(f, A, 'question of A')
    const b = await chat(f, B, 'question of B', { traceparent: traceparent(a.traceId) })

    expect(b.traceId).not.toBe(a.traceId)
    expect(b.messageId).not.toBe(a.messageId)
    const answers = await db.sql`select id::text as id, user_id::text as user_id, trace_id, content from public.messages
      where id in (${a.messageId}::uuid, ${b.messageId}::uuid) and role = 'assistant' order by user_id`
    expect(answers).toEqual([
      { id: a.messageId, user_id: A, trace_id: a.traceId, content: a.text },
      { id: b.messageId, user_id: B, trace_id: b.traceId, content: b.text },
    ])

    const onA = await storedUnder(f, a.traceId)
    expect(onA.spans.length).toBeGreaterThan(0)
    expect(onA.spans.filter((s) => s.user_id !== null && s.user_id !== A)).toEqual([])
    expect(onA.messages.every((m) => m.user_id === A)).toBe(true)
    expect(onA.messages).toHaveLength(2)
    const onB = await storedUnder(f, b.traceId)
    expect(onB.spans.find((s) => s.name === 'POST /functions/v1/chat')?.user_id).toBe(B)
    expect(onB.messages.map((m) => m.role).sort()).toEqual(['assistant', 'user'])
    expect(onB.logs.map((l) => l.message)).toContain('the caller’s traceparent names another user’s trace; this request has its own')

    // The caller's context is kept as a link on the request span of the new trace.
    const root = f.memory.getFinishedSpans().find((s) => s.spanContext().traceId === b.traceId && s.kind === SpanKind.SERVER && s.name === 'POST /functions/v1/chat')!
    expect(root.parentSpanContext).toBeUndefined()
    expect(root.links.map((l) => l.context.traceId)).toEqual([a.traceId])
  })

  it('keeps a refused request of the other user off the trace too', async () => {
    const f = createChatFixture(db.sql)
    const a = await chat(f, A, 'mine')
    const res = await f.request({ session_id: 'not-a-uuid', content: 'x' }, { token: await f.token(B), headers: { traceparent: traceparent(a.traceId) } })
    expect(res.status).toBe(400)
    const { error } = await res.json()
    expect(error.trace_id).not.toBe(a.traceId)
    const onA = await storedUnder(f, a.traceId)
    expect(onA.spans.filter((s) => s.user_id === B)).toEqual([])
    expect(onA.logs.filter((l) => l.message === 'chat request rejected')).toEqual([])
  })

  it('lets two users race for one new trace id: exactly one continues it', async () => {
    const f = createChatFixture(db.sql)
    const shared = newTraceId()
    const users = Array.from({ length: 6 }, () => crypto.randomUUID())
    const results = await Promise.all(users.map((u) => chat(f, u, 'race', { traceparent: traceparent(shared) })))
    expect(results.filter((r) => r.traceId === shared)).toHaveLength(1)
    expect(new Set(results.map((r) => r.messageId)).size).toBe(users.length)
  })
})

describe('one user reusing one traceparent', () => {
  it('continues the trace for every chat and stores every answer under its own id', async () => {
    const f = createChatFixture(db.sql)
    const mine = newTraceId()
    const first = await chat(f, A, 'first question', { traceparent: traceparent(mine) })
    const second = await chat(f, A, 'second question', { traceparent: traceparent(mine) })
    // At the same time, too: one trace, two streams.
    const [third, fourth] = await Promise.all([
      chat(f, A, 'third question', { traceparent: traceparent(mine) }),
      chat(f, A, 'fourth question', { traceparent: traceparent(mine) }),
    ])
    const all = [first, second, third, fourth]
    expect(all.map((c) => c.traceId)).toEqual([mine, mine, mine, mine])
    expect(new Set(all.map((c) => c.messageId)).size).toBe(4)
    for (const c of all) expect(c.streamId).toBe(c.messageId) // the answer is stored under its stream's id

    const stored = await db.sql`select id::text as id, content from public.messages where trace_id = ${mine} and role = 'assistant'`
    expect(stored).toHaveLength(4)
    for (const c of all) expect(stored.find((r) => r.id === c.messageId)?.content).toBe(c.text)
  })
})

describe('a request that is refused before it is authenticated', () => {
  it('starts its own trace with the caller’s context as a link, and writes nothing into that trace', async () => {
    const f = createChatFixture(db.sql)
    const a = await chat(f, A, 'mine')
    const before = await storedUnder(f, a.traceId)
    for (const res of [
      await f.request({ session_id: crypto.randomUUID(), content: 'x' }, { headers: { traceparent: traceparent(a.traceId) } }),
      await f.request({ session_id: crypto.randomUUID(), content: 'x' }, { token: 'a.b.c', headers: { traceparent: traceparent(a.traceId) } }),
      await f.request(undefined, { method: 'GET', headers: { traceparent: traceparent(a.traceId) } }),
    ]) {
      expect([401, 405]).toContain(res.status)
      const { error } = await res.json()
      expect(res.headers.get('x-trace-id')).toBe(error.trace_id)
      expect(error.trace_id).not.toBe(a.traceId)
      await f.telemetry.flush()
      const root = f.memory.getFinishedSpans().find((s) => s.spanContext().traceId === error.trace_id && s.kind === SpanKind.SERVER)!
      expect(root.links.map((l) => l.context.traceId)).toEqual([a.traceId])
    }
    const after = await storedUnder(f, a.traceId)
    expect(after.spans).toEqual(before.spans)
    expect(after.logs).toHaveLength(before.logs.length)
  })
})

describe('a resume of another user’s stream', () => {
  it('is refused (404 by stream id) and lands nowhere near the stream’s trace', async () => {
    const f = createChatFixture(db.sql)
    const a = await chat(f, A, 'resumable')
    const before = await storedUnder(f, a.traceId)
    const token = await f.token(B)
    // The older header names streams by trace id: it only ever finds the caller's own.
    const byTrace = await f.request({}, { token, headers: { 'x-resume-trace-id': a.traceId, 'last-event-id': '0' } })
    expect((await byTrace.json()).error.trace_id).not.toBe(a.traceId)
    expect(byTrace.status).toBe(410)
    expect(a.streamId).toMatch(/^[0-9a-f-]{36}$/)
    const byStream = await f.request({}, {
      token, headers: { 'x-resume-stream-id': a.streamId!, 'last-event-id': '0', traceparent: traceparent(a.traceId) },
    })
    expect(byStream.status).toBe(404)
    expect((await byStream.json()).error.trace_id).not.toBe(a.traceId)

    const after = await storedUnder(f, a.traceId)
    expect(after.spans).toEqual(before.spans)
    expect(after.logs).toHaveLength(before.logs.length)
  })

  it('is a resume of one’s own stream by its x-stream-id, on the stream’s trace', async () => {
    const f = createChatFixture(db.sql)
    const mine = newTraceId()
    const first = await chat(f, A, 'one', { traceparent: traceparent(mine) })
    const second = await chat(f, A, 'two', { traceparent: traceparent(mine) })
    const token = await f.token(A)
    for (const c of [first, second]) {
      const res = await f.request({}, { token, headers: { 'x-resume-stream-id': c.streamId!, 'last-event-id': '0' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-trace-id')).toBe(mine)
      expect(res.headers.get('x-stream-id')).toBe(c.streamId)
      const frames = framesOf(await res.text())
      expect(frames.filter((x) => x.event === 'chat.delta').map((x) => x.data.delta).join('')).toBe(c.text)
      expect(frames.at(-1)!.data.message_id).toBe(c.messageId)
    }
    // Two of the user's streams in one trace: the trace id alone names neither.
    const ambiguous = await f.request({}, { token, headers: { 'x-resume-trace-id': mine, 'last-event-id': '0' } })
    expect(ambiguous.status).toBe(410)
  })
})

describe('the same gate in front of embed', () => {
  it('continues its user’s own trace, and neither function continues another user’s', async () => {
    const chats = createChatFixture(db.sql)
    const embeds = createEmbedFixture(db.sql)
    const mine = newTraceId()
    const embedA = await embeds.request({ input: 'a text of A' }, { token: await embeds.token(A), headers: { traceparent: traceparent(mine) } })
    expect(embedA.status).toBe(200)
    expect(embedA.headers.get('x-trace-id')).toBe(mine)

    const chatB = await chat(chats, B, 'into the embed trace?', { traceparent: traceparent(mine) })
    expect(chatB.traceId).not.toBe(mine)
    const embedB = await embeds.request({ input: 'a text of B' }, { token: await embeds.token(B), headers: { traceparent: traceparent(mine) } })
    expect(embedB.status).toBe(200)
    expect(embedB.headers.get('x-trace-id')).not.toBe(mine)
    const refused = await embeds.request({ input: 'x' }, { headers: { traceparent: traceparent(mine) } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('x-trace-id')).not.toBe(mine)

    const spans = await embeds.spans(mine)
    expect(spans.filter((x) => x.kind === SpanKind.SERVER).map((x) => x.attributes['enduser.id'])).toEqual([A])
  })
})

