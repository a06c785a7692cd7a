import { ROOT_CONTEXT } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/telemetry/logger.ts'
import { countMessageTokens } from '../providers/tokens.ts'
import type { ChatMessage } from '../providers/types.ts'
import { maxBodyBytes } from '../body.ts'
import { openGate } from '../gate.ts'
import { readQuestion } from './question.ts'

const SESSION = '99999999-8888-4777-8666-555555555555'

/** readQuestion with a history store the test fills (or breaks), its spans in memory. */
function harness(history: ChatMessage[] | Error, env: Record<string, string> = {}) {
  const memory = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t')
  const config = readConfig({ JWT_SECRET: 'test-secret-that-is-at-least-32-characters', ...env })
  const asked: unknown[][] = []
  const ctx = {
    config, tracer, logger: createLogger({ write: () => {} }), bodyLimit: maxBodyBytes(config.maxContentChars),
    messages: {
      history: async (...args: unknown[]) => { asked.push(args); if (history instanceof Error) throw history; return history },
    } as never,
  }
  const ask = (body: unknown, contentType = 'application/json') => {
    const req = new Request('http://local/functions/v1/chat', { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) })
    const gate = openGate({ tracer, logger: ctx.logger, fn: 'chat', route: '/functions/v1/chat', req, parent: ROOT_CONTEXT, ended: () => {} })
    return { result: readQuestion(ctx, gate, req, 'u1'), gate }
  }
  return { ask, asked, memory, config }
}

describe('readQuestion', () => {
  it('gives the prompt: the history that fits the budget, then the question, with its token estimate', async () => {
    const older: ChatMessage[] = [{ role: 'user', content: 'first' }, { role: 'assistant', content: 'an answer' }]
    const h = harness(older)
    const { result, gate } = h.ask({ session_id: SESSION, content: 'and now?' })
    const q = await result
    if (q instanceof Response) throw new Error(`refused: ${await q.text()}`)
    expect(q.prompt).toEqual([...older, { role: 'user', content: 'and now?' }])
    expect(q.estimated).toBe(countMessageTokens(q.prompt))
    expect(q).toMatchObject({ session_id: SESSION, content: 'and now?', model: h.config.defaultModel })
    expect(h.asked).toEqual([[SESSION, 'u1', h.config.historyMessages]])
    gate.root.end()
    const select = h.memory.getFinishedSpans().find((s) => s.name === 'select messages')!
    expect(select.attributes).toMatchObject({ 'db.operation.name': 'select', 'streamscope.history.messages_sent': 2, 'streamscope.history.messages_dropped': 0 })
  })

  it('drops the oldest history past the token budget and says so on its span', async () => {
    const long = 'word '.repeat(50)
    const h = harness([{ role: 'user', content: long }, { role: 'assistant', content: 'short' }], { HISTORY_TOKEN_BUDGET: '20' })
    const q = await h.ask({ session_id: SESSION, content: 'q' }).result
    if (q instanceof Response) throw new Error('refused')
    expect(q.prompt.map((m) => m.content)).toEqual(['short', 'q'])
    const select = h.memory.getFinishedSpans().find((s) => s.name === 'select messages')!
    expect(select.attributes['streamscope.history.messages_dropped']).toBe(1)
  })

  it('refuses what is not a valid JSON question before reading any history', async () => {
    const h = harness([])
    const cases: [unknown, string | undefined, number, string][] = [
      [{ session_id: SESSION, content: 'x' }, 'text/plain', 415, 'unsupported_media_type'],
      [{ session_id: 'nope', content: 'x' }, undefined, 400, 'invalid_request'],
    ]
    for (const [body, type, status, code] of cases) {
      const res = await h.ask(body, type).result as Response
      expect(res.status).toBe(status)
      expect((await res.json()).error.code).toBe(code)
    }
    expect(h.asked).toEqual([])
  })

  it('answers 503 with Retry-After when the history cannot be read: nothing goes to the model', async () => {
    const h = harness(new Error('connection refused'))
    const res = await h.ask({ session_id: SESSION, content: 'x' }).result as Response
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await res.json()).error.code).toBe('database_unavailable')
  })
})
