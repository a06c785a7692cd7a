// What stream.ts leaves on the request span for the telemetry pipeline and the dashboard.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STALL_THRESHOLD_MS } from '../../functions/chat/stream-stats.ts'
import { ProviderError, type ChatProvider } from '../../functions/providers/types.ts'
import { createBlockReader, createChatFixture, createManualProvider } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '6e5d4c3b-2a19-4807-9f6e-5d4c3b2a1908'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function rootOf(f: ReturnType<typeof createChatFixture>, traceId: string): Promise<ReadableSpan> {
  for (let i = 0; i < 100; i++) {
    await f.telemetry.flush()
    const root = f.memory.getFinishedSpans().find((s) => s.spanContext().traceId === traceId && s.name === 'POST /functions/v1/chat')
    if (root) return root
    await sleep(20)
  }
  throw new Error('request span not ended')
}

describe('stream telemetry on the request span', () => {
  it('records every delta\'s arrival offset, frames, bytes, stalls, the longest gap and usage', async () => {
    const provider: ChatProvider = {
      name: 'gappy',
      async *stream() {
        yield { type: 'delta', text: 'a' }
        yield { type: 'delta', text: 'b' }
        await sleep(STALL_THRESHOLD_MS + 100) // one stall (timers never fire early)
        yield { type: 'delta', text: 'c' }
        yield { type: 'done', finish_reason: 'stop', usage: { input_tokens: 9, output_tokens: 3, estimated: true }, response_model: 'g' }
      },
    }
    const f = createChatFixture(db.sql, {}, provider)
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'measure me' }, { token: await f.token(USER) })
    const body = await res.text()
    const root = await rootOf(f, res.headers.get('x-trace-id')!)
    const a = root.attributes
    const offsets = a['streamscope.stream.frame_offsets_ms'] as number[]
    expect(offsets).toHaveLength(3)
    expect([...offsets].sort((x, y) => x - y)).toEqual(offsets)
    expect(offsets[2] - offsets[1]).toBeGreaterThanOrEqual(STALL_THRESHOLD_MS + 100)
    expect(a).toMatchObject({
      'streamscope.stream.frames': 3,
      'streamscope.stream.bytes': new TextEncoder().encode(body).byteLength,
      'streamscope.stream.end_reason': 'done',
      'streamscope.stream.stalls': 1,
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 3,
      'streamscope.usage.estimated': true,
    })
    expect(a['streamscope.stream.max_gap_ms']).toBeGreaterThanOrEqual(STALL_THRESHOLD_MS + 100)
    expect(a['streamscope.ttfb_ms']).toBeCloseTo(offsets[0], 0)
  }, 20_000)

  it('says client_abort, error and timeout when the stream ends that way', async () => {
    const cases: [string, (m: ReturnType<typeof createManualProvider>) => void, boolean, string][] = [
      ['error', (m) => { m.delta('x'); m.fail(new ProviderError('provider_stream_error', 'broke')) }, false, 'error'],
      ['timeout', (m) => m.fail(new ProviderError('provider_timeout', 'no answer in time')), false, 'timeout'],
      ['client_abort', (m) => m.delta('x', 'y'), true, 'client_abort'],
    ]
    for (const [name, script, leave, reason] of cases) {
      const manual = createManualProvider()
      const f = createChatFixture(db.sql, { RESUME_GRACE_SECONDS: '0' }, manual.provider)
      script(manual)
      const res = await f.request({ session_id: crypto.randomUUID(), content: name }, { token: await f.token(USER) })
      if (leave) {
        const blocks = createBlockReader(res.body!)
        await blocks.next()
        await blocks.cancel()
      } else {
        await res.text()
      }
      const root = await rootOf(f, res.headers.get('x-trace-id')!)
      expect([name, root.attributes['streamscope.stream.end_reason']]).toEqual([name, reason])
      expect(Array.isArray(root.attributes['streamscope.stream.frame_offsets_ms'])).toBe(true)
    }
  })
})
