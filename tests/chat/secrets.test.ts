// Secrets never leave in telemetry; content only when CAPTURE_CONTENT is on.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { ERROR_SCENARIOS, startOpenAIServer, type OpenAIServer } from '../support/openai-server.ts'

let db: TestDatabase
let upstream: OpenAIServer
beforeAll(async () => {
  db = await freshDatabase()
  upstream = await startOpenAIServer()
})
afterAll(async () => {
  await upstream.close()
  await db.drop()
})

const API_KEY = 'sk-proj-streamscopeLEAKCANARY0123456789abcdef'
const USER = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d'
const PROMPT = 'my private question about a canary-prompt-7731'
const ANSWER = ['canary', '-answer', '-5519']

// Everything written to stdout/stderr while a test runs (the logger, supabase-js, anything).
let output = ''
const writes = { out: process.stdout.write, err: process.stderr.write }
beforeEach(() => {
  output = ''
  const tap = (original: typeof process.stdout.write) => function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString()
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof process.stdout.write
  process.stdout.write = tap(writes.out)
  process.stderr.write = tap(writes.err)
})
afterEach(() => {
  process.stdout.write = writes.out
  process.stderr.write = writes.err
})

async function everythingRecorded(f: ReturnType<typeof createChatFixture>, traceIds: string[]): Promise<string> {
  await f.telemetry.flush()
  const spans = await db.sql`select * from telemetry.spans where trace_id = any(${traceIds})`
  const logs = await db.sql`select * from telemetry.logs where trace_id = any(${traceIds})`
  const memory = f.memory.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links }))
  expect(spans.length).toBeGreaterThan(3)
  return JSON.stringify({ spans, logs, memory, lines: f.logs, output })
}

describe('secrets and content in telemetry', () => {
  const env = (capture: boolean) => ({
    LLM_PROVIDER: 'openai', OPENAI_BASE_URL: upstream.baseUrl, OPENAI_API_KEY: API_KEY, DEFAULT_MODEL: 'gpt-4o-mini',
    CAPTURE_CONTENT: capture ? 'true' : 'false', LOG_CONSOLE_LEVEL: 'debug',
  })

  it('never records the JWT, the provider key or any content by default — also when the upstream echoes the key', async () => {
    const f = createChatFixture(db.sql, env(false))
    const jwt = await f.token(USER)
    upstream.next({ chunks: ANSWER }, { error: ERROR_SCENARIOS.unauthorized, echoKey: true }, { chunks: ANSWER, errorAfter: 1, echoKey: true })
    const traces: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await f.request({ session_id: crypto.randomUUID(), content: PROMPT }, { token: jwt })
      traces.push(res.headers.get('x-trace-id')!)
      const frames = framesOf(await res.text())
      expect(frames.at(-1)!.event).toBe(i === 0 ? 'chat.done' : 'error')
      expect(JSON.stringify(frames)).not.toContain(API_KEY)
    }
    // A forged token is refused; its text is not recorded either.
    const forged = `${jwt.slice(0, -4)}AAAA`
    const bad = await f.request({ session_id: crypto.randomUUID(), content: PROMPT }, { token: forged })
    traces.push(bad.headers.get('x-trace-id')!)
    expect(bad.status).toBe(401)
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`) // the key was really used

    const recorded = await everythingRecorded(f, traces)
    for (const secret of [API_KEY, jwt, forged, jwt.split('.')[2]]) expect(recorded).not.toContain(secret)
    for (const content of [PROMPT, 'canary-prompt', ANSWER.join('')]) expect(recorded).not.toContain(content)
    expect(recorded).not.toContain('gen_ai.input.messages')
  })

  it('records prompt and answer as gen_ai.input/output.messages only when CAPTURE_CONTENT is on', async () => {
    const f = createChatFixture(db.sql, env(true))
    const jwt = await f.token(USER)
    upstream.next({ chunks: ANSWER })
    const res = await f.request({ session_id: crypto.randomUUID(), content: PROMPT }, { token: jwt })
    const traceId = res.headers.get('x-trace-id')!
    await res.text()
    const recorded = await everythingRecorded(f, [traceId])
    for (const secret of [API_KEY, jwt]) expect(recorded).not.toContain(secret)
    const chat = f.memory.getFinishedSpans().find((s) => s.name === 'chat gpt-4o-mini' && s.spanContext().traceId === traceId)!
    expect(JSON.parse(chat.attributes['gen_ai.input.messages'] as string).at(-1)).toEqual({ role: 'user', parts: [{ type: 'text', content: PROMPT }] })
    expect(JSON.parse(chat.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: ANSWER.join('') }], finish_reason: 'stop' },
    ])
    const ended = f.logs.map((l) => JSON.parse(l)).find((l) => l.message === 'chat stream ended' && l.trace_id === traceId)
    expect(ended['gen_ai.output.messages']).toContain(ANSWER.join(''))
  })
})
