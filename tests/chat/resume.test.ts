// Resume without loss (docs/chat.md "Resume"): Request in, frames out, on a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBlockReader, createChatFixture, createManualProvider, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { until } from '../support/wait.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '3e1f0c7a-5b2d-4e8f-9a6c-1d2e3f4a5b6c'
const OTHER = '8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d'

async function setup(env: Record<string, string> = {}) {
  const manual = createManualProvider()
  const f = createChatFixture(db.sql, { RESUME_GRACE_SECONDS: '30', ...env }, manual.provider)
  const token = await f.token(USER)
  const session = crypto.randomUUID()
  const ask = (headers: Record<string, string> = {}, who = token) =>
    f.request({ session_id: session, content: 'tell me a story' }, { token: who, headers })
  return { f, manual, token, session, ask }
}

const resumeHeaders = (traceId: string, last?: number) => ({
  'x-resume-trace-id': traceId, ...(last !== undefined ? { 'last-event-id': String(last) } : {}),
})

async function rows(traceId: string) {
  return db.sql`select role, status, content from messages where trace_id = ${traceId} order by created_at`
}


describe('resume with Last-Event-ID', () => {
  it('continues a dropped stream from the next frame: no token lost or repeated, one call, one answer stored', async () => {
    const { f, manual, ask, token } = await setup()
    manual.delta('Once', ' upon', ' a')
    const first = await ask()
    const traceId = first.headers.get('x-trace-id')!
    const blocks = createBlockReader(first.body!)
    const got = [await blocks.next(), await blocks.next(), await blocks.next()].map((b) => framesOf(b!)[0])
    expect(got.map((x) => x.data.seq)).toEqual([1, 2, 3])
    await blocks.cancel() // the connection drops; frame 3 is taken as lost in transit

    manual.delta(' time')
    const resumed = await f.request({ session_id: 'ignored', content: 'ignored' }, { token, headers: resumeHeaders(traceId, 2) })
    expect(resumed.status).toBe(200)
    expect(resumed.headers.get('x-trace-id')).toBe(traceId)
    expect(resumed.headers.get('x-resumed-from')).toBe('2')
    expect(resumed.headers.get('x-chat-transport')).toBe('sse')
    expect(resumed.headers.get('content-type')).toMatch(/^text\/event-stream/)
    manual.delta('.')
    manual.done()
    const rest = framesOf(await resumed.text())
    expect(rest.map((x) => x.event)).toEqual(['chat.delta', 'chat.delta', 'chat.delta', 'chat.done'])
    expect(rest.slice(0, 3).map((x) => [x.id, x.data.seq])).toEqual([['3', 3], ['4', 4], ['5', 5]])

    const text = [...got.slice(0, 2), ...rest.slice(0, 3)].map((x) => x.data.delta).join('')
    expect(text).toBe('Once upon a time.')
    expect(manual.stats.calls).toBe(1)
    expect(manual.stats.aborted).toBe(0)
    const stored = await until(async () => { const r = await rows(traceId); return r.length === 2 ? r : undefined }, 'the answer')
    expect(stored).toEqual([
      { role: 'user', status: 'complete', content: 'tell me a story' },
      { role: 'assistant', status: 'complete', content: 'Once upon a time.' },
    ])
    expect(rest[3].data.message_id).toBeDefined()
  })

  it('replays a finished stream byte for byte, as often as asked, within retention', async () => {
    const { f, manual, ask, token } = await setup()
    manual.delta('a', 'b', 'c')
    manual.done()
    const res = await ask()
    const traceId = res.headers.get('x-trace-id')!
    const original = await res.text()
    const again = await (await f.request({}, { token, headers: resumeHeaders(traceId, 0) })).text()
    expect(again).toBe(original)
    const tail = await (await f.request({}, { token, headers: resumeHeaders(traceId, 3) })).text()
    expect(framesOf(tail).map((x) => x.event)).toEqual(['chat.done'])
    expect(tail).toBe(original.slice(original.indexOf('event: chat.done')))
    // Without Last-Event-ID: everything.
    expect(await (await f.request({}, { token, headers: resumeHeaders(traceId) })).text()).toBe(original)
    expect(manual.stats.calls).toBe(1)
    expect((await rows(traceId)).length).toBe(2)
  })

  it('takes over from a connection that is still open (it is closed) and the old one gets nothing more', async () => {
    const { f, manual, ask, token } = await setup()
    manual.delta('x', 'y')
    const first = await ask()
    const traceId = first.headers.get('x-trace-id')!
    const blocks = createBlockReader(first.body!)
    await blocks.next()
    const resumed = await f.request({}, { token, headers: resumeHeaders(traceId, 1) })
    expect(await blocks.next()).toBeUndefined() // closed by the takeover
    manual.delta('z')
    manual.done()
    const frames = framesOf(await resumed.text())
    expect(frames.filter((x) => x.event === 'chat.delta').map((x) => x.data.delta)).toEqual(['y', 'z'])
    expect(frames.at(-1)!.event).toBe('chat.done')
    expect(manual.stats.aborted).toBe(0)
  })

  it('goes on generating after the reader left, cuts when no resume comes within the grace time; a later resume ends with stream_cut', async () => {
    const { f, manual, ask, token } = await setup({ RESUME_GRACE_SECONDS: '0.2' })
    manual.delta('p', 'q')
    const first = await ask()
    const traceId = first.headers.get('x-trace-id')!
    const blocks = createBlockReader(first.body!)
    await blocks.next()
    await blocks.cancel()
    expect(manual.stats.aborted).toBe(0) // waiting for a resume
    const [cut] = await until(async () => { const r = await rows(traceId); return r.length === 2 ? r.slice(1) : undefined }, 'the cut answer')
    // 'q' was read from the model with nobody reading: the answer went on until the grace ended.
    expect(cut).toEqual({ role: 'assistant', status: 'cut', content: 'pq' })
    expect(manual.stats.aborted).toBe(1)
    const late = framesOf(await (await f.request({}, { token, headers: resumeHeaders(traceId, 0) })).text())
    expect(late.map((x) => x.event)).toEqual(['chat.delta', 'chat.delta', 'error'])
    expect(late[2].data).toEqual({ trace_id: traceId, code: 'stream_cut', message: expect.any(String) })
  })

  it('puts the resume on the original trace: request span child of the original root, a linked `chat resume` under it', async () => {
    const { f, manual, ask, token } = await setup()
    manual.delta('1', '2')
    manual.done()
    const res = await ask()
    const traceId = res.headers.get('x-trace-id')!
    await res.text()
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    await (await f.request({}, { token, headers: { ...resumeHeaders(traceId, 1), traceparent: caller } })).text()
    await f.telemetry.flush()
    const spans = f.memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
    const servers = spans.filter((s) => s.name === 'POST /functions/v1/chat')
    expect(servers).toHaveLength(2)
    const [original, resumeRequest] = servers.sort((a, b) => (a.parentSpanContext ? 1 : 0) - (b.parentSpanContext ? 1 : 0))
    expect(resumeRequest.parentSpanContext?.spanId).toBe(original.spanContext().spanId)
    expect(resumeRequest.links.map((l) => l.context.traceId)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736'])
    expect(resumeRequest.attributes['streamscope.resume.trace_id']).toBe(traceId)
    const resumeSpan = spans.find((s) => s.name === 'chat resume')!
    expect(resumeSpan.parentSpanContext?.spanId).toBe(resumeRequest.spanContext().spanId)
    expect(resumeSpan.links.map((l) => l.context.spanId)).toEqual([original.spanContext().spanId])
    expect(resumeSpan.attributes).toMatchObject({ 'streamscope.resume.from_seq': 1, 'streamscope.stream.frames': 1, 'streamscope.stream.end_reason': 'done' })
    // In Postgres too, where the dashboard looks.
    const stored = await db.sql`select name, parent_span_id from telemetry.spans where trace_id = ${traceId}`
    expect(stored.map((s) => s.name)).toEqual(expect.arrayContaining(['chat resume']))
  })

  it('refuses what cannot be resumed with stable codes and stores nothing', async () => {
    const { f, manual, ask, token } = await setup()
    manual.delta('m')
    manual.done()
    const res = await ask()
    const traceId = res.headers.get('x-trace-id')!
    const streamId = res.headers.get('x-stream-id')!
    await res.text()
    const other = await f.token(OTHER)
    const cases: [Record<string, string>, string | undefined, number, string][] = [
      [resumeHeaders('0'.repeat(32), 0), token, 410, 'stream_gone'],
      [{ 'x-resume-stream-id': crypto.randomUUID(), 'last-event-id': '0' }, token, 410, 'stream_gone'],
      [{ 'x-resume-stream-id': streamId, 'last-event-id': '0' }, other, 404, 'not_found'],
      [resumeHeaders(traceId, 0), other, 410, 'stream_gone'], // a trace id only ever names the caller's own streams
      [{ 'x-resume-stream-id': 'nope', 'last-event-id': '0' }, token, 400, 'invalid_request'],
      [resumeHeaders(traceId, 2), token, 400, 'invalid_request'], // ahead of the stream (1 delta)
      [{ 'x-resume-trace-id': traceId, 'last-event-id': 'abc' }, token, 400, 'invalid_request'],
      [{ 'x-resume-trace-id': 'ABC', 'last-event-id': '1' }, token, 400, 'invalid_request'],
      [{ 'last-event-id': '1' }, token, 400, 'invalid_request'], // no resume id: not taken as a new question
      [resumeHeaders(traceId, 0), undefined, 401, 'unauthorized'],
    ]
    for (const [headers, who, status, code] of cases) {
      const r = await f.request({ session_id: crypto.randomUUID(), content: 'x' }, { token: who, headers })
      expect([r.status, (await r.json()).error.code]).toEqual([status, code])
    }
    expect((await rows(traceId)).length).toBe(2)
    expect(manual.stats.calls).toBe(1)
  })

  it('answers 410 when resume is off, and for answers given over the JSON transport', async () => {
    const off = await setup({ RESUME_RETENTION_SECONDS: '0' })
    off.manual.delta('a')
    off.manual.done()
    const r1 = await off.ask()
    await r1.text()
    const g1 = await off.f.request({}, { token: off.token, headers: resumeHeaders(r1.headers.get('x-trace-id')!, 0) })
    expect([g1.status, (await g1.json()).error.code]).toEqual([410, 'stream_gone'])

    const json = await setup()
    json.manual.delta('b')
    json.manual.done()
    const r2 = await json.ask({ accept: 'application/json' })
    expect(r2.headers.get('x-chat-transport')).toBe('http')
    await r2.json()
    const g2 = await json.f.request({}, { token: json.token, headers: resumeHeaders(r2.headers.get('x-trace-id')!, 0) })
    expect([g2.status, (await g2.json()).error.code]).toEqual([410, 'stream_gone'])
  })
})
