import { ROOT_CONTEXT } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { readConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/telemetry/logger.ts'
import { openGate } from '../gate.ts'
import { chunkText } from './chunk.ts'
import { createEmbedContext } from './context.ts'
import { readEmbedInput, toEmbedTexts } from './texts.ts'

const MESSAGE_ID = '99999999-8888-4777-8666-555555555555'

/** The embed context over a message store the test fills; the gate of a fresh request. */
function harness(messages: Record<string, string> | Error = {}) {
  const memory = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t')
  const config = readConfig({ JWT_SECRET: 'test-secret-that-is-at-least-32-characters', EMBED_MAX_INPUT_CHARS: '100' })
  const logger = createLogger({ write: () => {} })
  const base = createEmbedContext({ config, sql: {} as never, telemetry: { tracer, logger } as never, provider: {} as never })
  const store = {
    async findMessage(id: string, userId: string) {
      if (messages instanceof Error) throw messages
      return userId === 'u1' && id in messages ? { id, content: messages[id] } : undefined
    },
  }
  const ctx = { ...base, store: store as unknown as typeof base.store }
  const request = (body: unknown, contentType = 'application/json') =>
    new Request('http://local/functions/v1/embed', { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const gateOf = (req: Request) => openGate({ tracer, logger, fn: 'embed', route: '/functions/v1/embed', req, parent: ROOT_CONTEXT, ended: () => {} })
  return { ctx, request, gateOf, memory }
}

const refusal = async (r: unknown) => {
  if (!(r instanceof Response)) throw new Error('not refused')
  return { status: r.status, code: (await r.json()).error.code }
}

describe('readEmbedInput', () => {
  it('reads a document or a message request', async () => {
    const h = harness()
    const doc = h.request({ input: ['a text'] })
    expect(await readEmbedInput(h.ctx, h.gateOf(doc), doc)).toMatchObject({ kind: 'document', inputs: ['a text'] })
    const msg = h.request({ message_id: MESSAGE_ID })
    expect(await readEmbedInput(h.ctx, h.gateOf(msg), msg)).toEqual({ kind: 'message', message_id: MESSAGE_ID })
  })

  it('refuses another content type, a body that is not JSON, and an invalid request', async () => {
    const h = harness()
    const cases: [Request, number, string][] = [
      [h.request({ input: ['x'] }, 'text/plain'), 415, 'unsupported_media_type'],
      [h.request('{not json'), 400, 'invalid_json'],
      [h.request({ input: ['x'.repeat(101)] }), 413, 'content_too_large'],
    ]
    for (const [req, status, code] of cases) expect(await refusal(await readEmbedInput(h.ctx, h.gateOf(req), req))).toEqual({ status, code })
  })
})

describe('toEmbedTexts', () => {
  it('chunks a document\'s inputs, and embeds a message whole', async () => {
    const h = harness({ [MESSAGE_ID]: 'the message' })
    const long = 'One sentence here. '.repeat(10)
    const req = h.request({})
    expect(await toEmbedTexts(h.ctx, h.gateOf(req), { kind: 'document', inputs: ['short', long], metadata: {} }, 'u1'))
      .toEqual({ texts: ['short', ...chunkText(long, 100)] })
    const gate = h.gateOf(req)
    expect(await toEmbedTexts(h.ctx, gate, { kind: 'message', message_id: MESSAGE_ID }, 'u1'))
      .toEqual({ texts: ['the message'], message: { id: MESSAGE_ID, content: 'the message' } })
    gate.root.end()
    expect(h.memory.getFinishedSpans().map((s) => s.name)).toContain('select messages')
  })

  it('answers another user\'s message like a missing one, and refuses an empty or oversize message', async () => {
    const empty = 'aaaaaaaa-8888-4777-8666-555555555555'
    const big = 'bbbbbbbb-8888-4777-8666-555555555555'
    const h = harness({ [MESSAGE_ID]: 'mine', [empty]: '  ', [big]: 'x'.repeat(101) })
    const ask = async (id: string, user = 'u1') => {
      const req = h.request({})
      return refusal(await toEmbedTexts(h.ctx, h.gateOf(req), { kind: 'message', message_id: id }, user))
    }
    expect(await ask(MESSAGE_ID, 'u2')).toEqual({ status: 404, code: 'not_found' })
    expect(await ask(empty)).toEqual({ status: 400, code: 'invalid_request' })
    expect(await ask(big)).toEqual({ status: 413, code: 'content_too_large' })
  })

  it('answers 503 when the message cannot be read', async () => {
    const h = harness(new Error('down'))
    const req = h.request({})
    expect(await refusal(await toEmbedTexts(h.ctx, h.gateOf(req), { kind: 'message', message_id: MESSAGE_ID }, 'u1')))
      .toEqual({ status: 503, code: 'database_unavailable' })
  })
})
