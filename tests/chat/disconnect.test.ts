// Through the real Node server (@hono/node-server) with a real fetch: a client that goes
// away aborts the upstream model request and the partial answer is stored as `cut`; a
// client that comes back with Last-Event-ID gets the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { createBlockReader, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startOpenAIServer, type OpenAIServer } from '../support/openai-server.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const SECRET = 'disconnect-secret-that-is-at-least-32-chars'
const USER = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'
const CHUNKS = Array.from({ length: 400 }, (_, i) => `w${i} `)

let db: TestDatabase
let upstream: OpenAIServer
const servers: RunningServer[] = []

beforeAll(async () => {
  db = await freshDatabase()
  // 400 chunks 50 ms apart: 20 s if nobody stopped it.
  upstream = await startOpenAIServer({ chunks: CHUNKS, chunkDelayMs: 50 })
}, 60_000)
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await upstream.close()
  await db.drop()
})

async function serve(env: Record<string, string>) {
  const s = await startServer({
    DATABASE_URL: db.url, JWT_SECRET: SECRET, LLM_PROVIDER: 'openai', OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_API_KEY: 'sk-test', DEFAULT_MODEL: 'gpt-4o-mini', LOG_CONSOLE_LEVEL: 'error', ...env,
  })
  servers.push(s)
  return s
}

const chat = async (baseUrl: string, signal?: AbortSignal, headers: Record<string, string> = {}) => fetch(`${baseUrl}/functions/v1/chat`, {
  method: 'POST',
  signal,
  headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'a very long answer please' }),
})

async function answerOf(traceId: string) {
  return until(async () => (await db.sql`select status, content from messages where trace_id = ${traceId} and role = 'assistant'`)[0], 'the assistant message')
}

describe('client disconnect through the Node server', () => {
  it('aborts the upstream request as soon as the client aborts, and stores the partial answer as cut', async () => {
    const server = await serve({ RESUME_GRACE_SECONDS: '0' })
    const index = upstream.requests.length
    const abort = new AbortController()
    const res = await chat(server.baseUrl, abort.signal)
    expect(res.status).toBe(200)
    const traceId = res.headers.get('x-trace-id')!
    const blocks = createBlockReader(res.body!)
    const seen = [await blocks.next(), await blocks.next(), await blocks.next()].map((b) => framesOf(b!)[0].data.delta)
    abort.abort()
    // The upstream sees its connection close long before its 400 chunks are out.
    await upstream.disconnected(index, 10_000)
    expect(upstream.requests[index].finishedAt).toBeUndefined()
    const answer = await answerOf(traceId)
    expect(answer.status).toBe('cut')
    expect(answer.content.startsWith(seen.join(''))).toBe(true)
    expect(answer.content.length).toBeLessThan(CHUNKS.join('').length)
  }, 60_000)

  it('resumes a dropped stream through the server with Last-Event-ID: the whole answer, once', async () => {
    const server = await serve({ RESUME_GRACE_SECONDS: '30' })
    upstream.next({ chunks: CHUNKS.slice(0, 40), chunkDelayMs: 20 })
    const index = upstream.requests.length
    const abort = new AbortController()
    const res = await chat(server.baseUrl, abort.signal)
    const traceId = res.headers.get('x-trace-id')!
    const blocks = createBlockReader(res.body!)
    const first = [await blocks.next(), await blocks.next()].map((b) => framesOf(b!)[0].data)
    abort.abort()
    const again = await chat(server.baseUrl, undefined, { 'x-resume-trace-id': traceId, 'last-event-id': String(first.at(-1)!.seq) })
    expect(again.status).toBe(200)
    expect(again.headers.get('x-trace-id')).toBe(traceId)
    const rest = framesOf(await again.text())
    expect(rest.at(-1)!.event).toBe('chat.done')
    const text = [...first, ...rest.filter((x) => x.event === 'chat.delta').map((x) => x.data)].map((d) => d.delta).join('')
    expect(text).toBe(CHUNKS.slice(0, 40).join(''))
    expect(upstream.requests.length).toBe(index + 1) // the model was asked once
    expect(await answerOf(traceId)).toEqual({ status: 'complete', content: text })
    const [{ n }] = await db.sql`select count(*)::int as n from messages where trace_id = ${traceId}`
    expect(n).toBe(2)
  }, 60_000)
})
