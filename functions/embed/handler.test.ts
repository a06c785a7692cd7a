import { SpanKind } from '@opentelemetry/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEmbedFixture, createRecordingProvider } from '../../tests/embed/fixture.ts'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { toLocalVector } from '../providers/local-embedder.ts'
import { ProviderError } from '../providers/types.ts'
import { toBatches } from './batches.ts'
import { chunkText } from './chunk.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '21111111-2222-4333-8444-555555555555'
const OTHER = '31111111-2222-4333-8444-555555555555'

const rowsOf = (traceId: string) => db.sql`
  select id, document_id, user_id, chunk_index, content, metadata, model, dimension, embedding, trace_id
  from document_embeddings where trace_id = ${traceId} order by chunk_index`

const paragraph = (word: string, n: number) => `${Array.from({ length: n }, (_, i) => `${word} ${i} is here.`).join(' ')}`

describe('embed handler', () => {
  it('embeds one string into one row and answers ids, model, dimension and usage', async () => {
    const f = createEmbedFixture(db.sql)
    const res = await f.request({ input: 'the quick brown fox', metadata: { source: 'unit' } }, { token: await f.token(USER) })
    expect(res.status).toBe(200)
    const traceId = res.headers.get('x-trace-id')!
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-`))
    const body = await res.json()
    expect(body).toEqual({
      trace_id: traceId, document_id: expect.stringMatching(/^[0-9a-f-]{36}$/), ids: [expect.any(String)],
      model: 'local-hash-384', dimension: 16, usage: { input_tokens: expect.any(Number), estimated: true },
    })
    expect(body.usage.input_tokens).toBeGreaterThan(0)
    const [row] = await rowsOf(traceId)
    expect(row).toMatchObject({
      id: body.ids[0], document_id: body.document_id, user_id: USER, chunk_index: 0, content: 'the quick brown fox',
      metadata: { source: 'unit' }, model: 'local-hash-384', dimension: 16, trace_id: traceId,
    })
    const expected = toLocalVector('the quick brown fox', 16)
    row.embedding.forEach((x: number, i: number) => expect(x).toBeCloseTo(expected[i], 5))
  })

  it('chunks long texts, batches provider calls and inserts, and keeps chunk order', async () => {
    const provider = createRecordingProvider()
    const f = createEmbedFixture(db.sql, { EMBED_BATCH_SIZE: '2' }, provider)
    const long = [paragraph('alpha', 80), paragraph('beta', 80), paragraph('gamma', 40)].join('\n\n')
    const expectedChunks = [...chunkText(long), 'a short second input']
    expect(expectedChunks.length).toBeGreaterThanOrEqual(4)
    const res = await f.request({ input: [long, 'a short second input'] }, { token: await f.token(USER) })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(provider.calls.flat()).toEqual(expectedChunks)
    expect(provider.calls).toEqual(toBatches(expectedChunks, 2))
    const rows = await rowsOf(body.trace_id)
    expect(rows.map((r) => r.content)).toEqual(expectedChunks)
    expect(rows.map((r) => r.chunk_index)).toEqual(expectedChunks.map((_, i) => i))
    expect(rows.map((r) => r.id)).toEqual(body.ids)

    const spans = await f.spans(body.trace_id)
    const root = spans.find((s) => s.name === 'POST /functions/v1/embed')!
    expect(root.kind).toBe(SpanKind.SERVER)
    expect(root.attributes).toMatchObject({
      'streamscope.function': 'embed', 'enduser.id': USER, 'gen_ai.request.model': 'local-hash-384',
      'gen_ai.usage.input_tokens': body.usage.input_tokens, 'http.response.status_code': 200,
      'streamscope.embed.chunks': expectedChunks.length, 'streamscope.embed.batches': provider.calls.length,
    })
    const calls = spans.filter((s) => s.name === 'embeddings local-hash-384')
    expect(calls).toHaveLength(provider.calls.length)
    for (const c of calls) {
      expect(c.kind).toBe(SpanKind.CLIENT)
      expect(c.parentSpanContext?.spanId).toBe(root.spanContext().spanId)
      expect(c.attributes).toMatchObject({
        'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'recording', 'gen_ai.request.model': 'local-hash-384',
        'gen_ai.usage.input_tokens': expect.any(Number), 'server.address': 'embeddings.test',
      })
    }
    const inserts = spans.filter((s) => s.name === 'insert document_embeddings')
    expect(inserts).toHaveLength(Math.ceil(expectedChunks.length / 2))
    expect(inserts.every((s) => s.parentSpanContext?.spanId === root.spanContext().spanId)).toBe(true)
    expect(spans.filter((s) => s.name === 'delete document_embeddings')).toHaveLength(1)
  })

  it('writes its spans and logs to the telemetry tables', async () => {
    const f = createEmbedFixture(db.sql)
    const res = await f.request({ input: 'spans please' }, { token: await f.token(USER) })
    const traceId = res.headers.get('x-trace-id')!
    await f.telemetry.flush()
    const spans = await db.sql`select name, kind, function, model, input_tokens from telemetry.spans where trace_id = ${traceId}`
    expect(spans.find((s) => s.kind === 'server')).toMatchObject({ name: 'POST /functions/v1/embed', function: 'embed', model: 'local-hash-384' })
    expect(spans.find((s) => s.kind === 'client')).toMatchObject({ name: 'embeddings local-hash-384', input_tokens: expect.any(Number) })
    const logs = await db.sql`select message from telemetry.logs where trace_id = ${traceId}`
    expect(logs.map((l) => l.message)).toContain('embeddings stored')
  })

  it('replaces a document posted again, per user', async () => {
    const f = createEmbedFixture(db.sql)
    const document_id = crypto.randomUUID()
    const first = await (await f.request({ input: ['one', 'two', 'three'], document_id }, { token: await f.token(USER) })).json()
    expect(first.ids).toHaveLength(3)
    const theirs = await f.request({ input: ['not yours'], document_id }, { token: await f.token(OTHER) })
    expect(theirs.status).toBe(200)
    const second = await (await f.request({ input: ['only'], document_id }, { token: await f.token(USER) })).json()
    expect(second.document_id).toBe(document_id)
    const rows = await db.sql`select user_id, content from document_embeddings where document_id = ${document_id} order by user_id`
    expect(rows.map((r) => [r.user_id, r.content])).toEqual([[USER, 'only'], [OTHER, 'not yours']])
  })

  it('stores nothing when a later batch fails at the provider', async () => {
    const provider = createRecordingProvider((call) => call === 2 ? new ProviderError('provider_bad_request', 'upstream said no', 400) : undefined)
    const f = createEmbedFixture(db.sql, { EMBED_BATCH_SIZE: '1' }, provider)
    const res = await f.request({ input: ['a', 'b', 'c'] }, { token: await f.token(USER) })
    expect(res.status).toBe(502)
    const body = await res.json()
    expect(body.error.code).toBe('provider_error')
    expect(provider.calls).toHaveLength(2)
    expect(await rowsOf(body.error.trace_id)).toHaveLength(0)
    const spans = await f.spans(body.error.trace_id)
    const failed = spans.filter((s) => s.name === 'embeddings local-hash-384').at(-1)!
    expect(failed.attributes['error.type']).toBe('provider_bad_request')
  })

  it('answers 503 with retry-after when the provider is rate limited or down', async () => {
    const f = createEmbedFixture(db.sql, {}, createRecordingProvider(() => new ProviderError('provider_rate_limited', 'slow down', 429, 7)))
    const res = await f.request({ input: 'x' }, { token: await f.token(USER) })
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('7')
    expect((await res.json()).error.code).toBe('provider_unavailable')
  })

  it('refuses vectors of the wrong length from the provider', async () => {
    const f = createEmbedFixture(db.sql, {}, {
      name: 'short', async embed(r) { return { vectors: r.inputs.map(() => [1, 2]), model: r.model, usage: { input_tokens: 1, estimated: false } } },
    })
    const res = await f.request({ input: 'x' }, { token: await f.token(USER) })
    expect(res.status).toBe(502)
    expect(await rowsOf(res.headers.get('x-trace-id')!)).toHaveLength(0)
  })

  it('rolls back every batch, and keeps the old document, when a write fails mid-transaction', async () => {
    const f = createEmbedFixture(db.sql, { EMBED_BATCH_SIZE: '2' })
    const token = await f.token(USER)
    const document_id = crypto.randomUUID()
    await f.request({ input: ['old one', 'old two'], document_id }, { token })
    // A real failure from Postgres on the third chunk (the second INSERT).
    await db.sql.unsafe(`
      create function fail_third_chunk() returns trigger language plpgsql as $$
      begin
        if new.document_id = '${document_id}' and new.chunk_index = 2 then raise exception 'disk full (test)'; end if;
        return new;
      end $$;
      create trigger fail_third_chunk before insert on document_embeddings for each row execute function fail_third_chunk();`)
    try {
      const res = await f.request({ input: ['n1', 'n2', 'n3', 'n4'], document_id }, { token })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect((await res.json()).error.code).toBe('database_unavailable')
      const rows = await db.sql`select content from document_embeddings where document_id = ${document_id} order by chunk_index`
      expect(rows.map((r) => r.content)).toEqual(['old one', 'old two'])
    } finally {
      await db.sql.unsafe('drop trigger fail_third_chunk on document_embeddings; drop function fail_third_chunk()')
    }
  })
})

describe('embed handler: rate limits', () => {
  it('refuses with 429 and retry-after past the requests per minute, with a span event and a log line', async () => {
    const user = crypto.randomUUID()
    const f = createEmbedFixture(db.sql, { RATE_LIMIT_RPM: '2', RATE_LIMIT_TPM: '0' })
    const token = await f.token(user)
    expect((await f.request({ input: 'one' }, { token })).status).toBe(200)
    expect((await f.request({ input: 'two' }, { token })).status).toBe(200)
    const res = await f.request({ input: 'three' }, { token })
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const body = await res.json()
    expect(body.error.code).toBe('rate_limited')
    expect(await rowsOf(body.error.trace_id)).toHaveLength(0)
    const root = (await f.spans(body.error.trace_id)).find((s) => s.name === 'POST /functions/v1/embed')!
    expect(root.events.map((e) => e.name)).toContain('rate_limit.exceeded')
    expect(f.logs.some((l) => JSON.parse(l).message === 'rate limit exceeded')).toBe(true)
  })

  it('counts the provider’s tokens, not the estimate, against the tokens per minute', async () => {
    const user = crypto.randomUUID()
    const f = createEmbedFixture(db.sql, { RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '1000000' })
    const res = await f.request({ input: 'count these tokens please' }, { token: await f.token(user) })
    const { usage } = await res.json()
    const [row] = await db.sql`select requests, tokens from rate_limits where user_id = ${user}`
    expect({ requests: row.requests, tokens: Number(row.tokens) }).toEqual({ requests: 1, tokens: usage.input_tokens })
  })
})

describe('embed handler: messages', () => {
  const insertMessage = async (user: string, content: string) => {
    const [m] = await db.sql`insert into messages (session_id, user_id, role, content) values (${crypto.randomUUID()}, ${user}, 'user', ${content}) returning id`
    return m.id as string
  }

  it('embeds the caller’s message into message_embeddings, once per model', async () => {
    const f = createEmbedFixture(db.sql)
    const token = await f.token(USER)
    const id = await insertMessage(USER, 'embed this message')
    const first = await f.request({ message_id: id }, { token })
    expect(first.status).toBe(200)
    const body = await first.json()
    expect(body).toMatchObject({ message_id: id, document_id: null, ids: [expect.any(String)], model: 'local-hash-384', dimension: 16 })
    await f.request({ message_id: id }, { token })
    const rows = await db.sql`select id, user_id, model, dimension, trace_id from message_embeddings where message_id = ${id}`
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: body.ids[0], user_id: USER, model: 'local-hash-384', dimension: 16 })
  })

  it('answers 404 for someone else’s message and for no message', async () => {
    const f = createEmbedFixture(db.sql)
    const theirs = await insertMessage(OTHER, 'private')
    for (const message_id of [theirs, crypto.randomUUID()]) {
      const res = await f.request({ message_id }, { token: await f.token(USER) })
      expect(res.status).toBe(404)
      expect((await res.json()).error.code).toBe('not_found')
    }
    const [{ n }] = await db.sql`select count(*)::int as n from message_embeddings where message_id = ${theirs}`
    expect(n).toBe(0)
  })
})

describe('embed handler: bad requests', () => {
  const DOC = crypto.randomUUID()
  type F = ReturnType<typeof createEmbedFixture>
  const cases: [string, (f: F, token: string) => Promise<Response>, number, string][] = [
    ['no token', (f) => f.request({ input: 'x' }), 401, 'unauthorized'],
    ['forged token', (f) => f.request({ input: 'x' }, { token: 'a.b.c' }), 401, 'unauthorized'],
    ['expired token', async (f) => f.request({ input: 'x' }, { token: await f.token(USER, -120) }), 401, 'unauthorized'],
    ['wrong method', (f, t) => f.request(undefined, { token: t, method: 'GET' }), 405, 'method_not_allowed'],
    ['wrong content type', (f, t) => f.request('x', { token: t, headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
    ['invalid JSON', (f, t) => f.request('{"input":', { token: t }), 400, 'invalid_json'],
    ['array body', (f, t) => f.request([1], { token: t }), 400, 'invalid_request'],
    ['missing input', (f, t) => f.request({ document_id: DOC }, { token: t }), 400, 'invalid_request'],
    ['input a number', (f, t) => f.request({ input: 1 }, { token: t }), 400, 'invalid_request'],
    ['empty input array', (f, t) => f.request({ input: [] }, { token: t }), 400, 'invalid_request'],
    ['empty string', (f, t) => f.request({ input: '' }, { token: t }), 400, 'invalid_request'],
    ['blank string in array', (f, t) => f.request({ input: ['ok', ' '] }, { token: t }), 400, 'invalid_request'],
    ['non-string in array', (f, t) => f.request({ input: ['ok', 2] }, { token: t }), 400, 'invalid_request'],
    ['NUL character', (f, t) => f.request({ input: 'a\u0000' }, { token: t }), 400, 'invalid_request'],
    ['non-UUID document', (f, t) => f.request({ input: 'x', document_id: 'doc' }, { token: t }), 400, 'invalid_request'],
    ['metadata not an object', (f, t) => f.request({ input: 'x', metadata: [1] }, { token: t }), 400, 'invalid_request'],
    ['non-UUID message', (f, t) => f.request({ message_id: 'm' }, { token: t }), 400, 'invalid_request'],
    ['too many inputs', (f, t) => f.request({ input: ['a', 'b', 'c', 'd'] }, { token: t }), 413, 'content_too_large'],
    ['oversize input', (f, t) => f.request({ input: 'x'.repeat(101) }, { token: t }), 413, 'content_too_large'],
    ['oversize body', (f, t) => f.request(JSON.stringify({ input: 'x', pad: 'p'.repeat(200_000) }), { token: t }), 413, 'content_too_large'],
  ]
  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}, nothing stored`, async () => {
      const f = createEmbedFixture(db.sql, { EMBED_MAX_INPUT_CHARS: '100', EMBED_MAX_INPUTS: '3' })
      const res = await send(f, await f.token(USER))
      expect(res.status).toBe(status)
      const traceId = res.headers.get('x-trace-id')
      expect(await res.json()).toEqual({ error: { code, message: expect.any(String), trace_id: traceId } })
      const [{ n }] = await db.sql`
        select (select count(*) from document_embeddings where trace_id = ${traceId})
             + (select count(*) from message_embeddings where trace_id = ${traceId}) as n`
      expect(Number(n)).toBe(0)
    })
  }

  it('stops reading a streamed body past the limit, without a content-length', async () => {
    const f = createEmbedFixture(db.sql, { EMBED_MAX_INPUT_CHARS: '100' })
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(c) { pulled++; c.enqueue(new TextEncoder().encode(' '.repeat(64 * 1024))) }, // endless
    })
    const res = await f.handler(new Request('http://local/functions/v1/embed', {
      method: 'POST', body, duplex: 'half',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await f.token(USER)}` },
    } as RequestInit))
    expect(res.status).toBe(413)
    expect(pulled).toBeLessThan(10)
  })
})
