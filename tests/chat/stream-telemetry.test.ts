// What stream.ts leaves on the request span for the telemetry pipeline and the dashboard.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { STALL_THRESHOLD_MS } from '../../functions/chat/stream-stats.ts'
import { ProviderError, type ChatProvider } from '../../functions/providers/types.ts'
import { createBlockReader, createChatFixture, createManualProvider } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { until } from '../support/wait.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '6e5d4c3b-2a19-4807-9f6e-5d4c3b2a1908'
async function rootOf(f: ReturnType<typeof createChatFixture>, traceId: string): Promise<ReadableSpan> {
  return until(async () => {
    await f.telemetry.flush()
    return f.memory.getFinishedSpans().find((s) => s.spanContext().traceId === traceId && s.name === 'POST /functions/v1/chat')
  }, 'the request span to end')
}

describe('stream telemetry on the request span', () => {
  it('records every delta\'s arrival offset, frames, bytes, stalls, the longest gap and usage', async () => {
    // The request's clock is fake (the database is real): offsets come out exact, and a busy
    // machine cannot add a stall between 'a' and 'b' or shave a millisecond off the one after.
    let quiet = false
    const provider: ChatProvider = {
      name: 'gappy',
      async *stream() {
        yield { type: 'delta', text: 'a' }
        yield { type: 'delta', text: 'b' }
        quiet = true
        await new Promise((r) => setTimeout(r, STALL_THRESHOLD_MS + 100)) // one stall
        yield { type: 'delta', text: 'c' }
        yield { type: 'done', finish_reason: 'stop', usage: { input_tokens: 9, output_tokens: 3, estimated: true }, response_model: 'g' }
      },
    }
    const f = createChatFixture(db.sql, {}, provider)
    const token = await f.token(USER)
    // postgres.js opens a connection from a timer: the pool is opened before the clock is faked.
    await Promise.all(Array.from({ length: 5 }, () => db.sql`select pg_sleep(0.05)`))
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    onTestFinished(() => { vi.useRealTimers() })
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'measure me' }, { token })
    const text = res.text()
    await until(() => quiet, "the provider's pause")
    await vi.advanceTimersByTimeAsync(STALL_THRESHOLD_MS + 100)
    const body = await text
    vi.useRealTimers() // the spans are ended; exporting them goes through timers of its own
    const root = await rootOf(f, res.headers.get('x-trace-id')!)
    const a = root.attributes
    const offsets = a['streamscope.stream.frame_offsets_ms'] as number[]
    // No time passes on the fake clock but the provider's pause.
    expect(offsets).toEqual([0, 0, STALL_THRESHOLD_MS + 100])
    expect(a).toMatchObject({
      'streamscope.stream.frames': 3,
      'streamscope.stream.bytes': new TextEncoder().encode(body).byteLength,
      'streamscope.stream.end_reason': 'done',
      'streamscope.stream.stalls': 1,
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 3,
      'streamscope.usage.estimated': true,
    })
    expect(a['streamscope.stream.max_gap_ms']).toBe(STALL_THRESHOLD_MS + 100)
    expect(a['streamscope.ttfb_ms']).toBe(offsets[0])
  })

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
