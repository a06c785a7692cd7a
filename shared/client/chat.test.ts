// The chat client's decisions (retry, resume, dedupe, fallback, give up) against scripted
// responses. The whole stack (real server, real cuts) is tested in tests/client/.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { until } from '../../tests/support/wait.ts'
import { formatDelta, formatDone, formatError, type ChatAnswer, type DoneFrame } from '../sse/frames.ts'
import { streamChat } from './chat.ts'
import type { ChatEvent, ChatOptions } from './types.ts'

const TRACE = 'a'.repeat(32)
const SESSION = '5b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e2f'
const enc = new TextEncoder()

// Frames as the server writes them (the wire contract's own formatters).
const delta = (seq: number, text: string) => formatDelta({ trace_id: TRACE, seq, delta: text })
const DONE: DoneFrame = { trace_id: TRACE, message_id: 'm-1', finish_reason: 'stop', usage: { input_tokens: 3, output_tokens: 4 }, ttfb_ms: 12.5, duration_ms: 40 }
const done = formatDone(DONE)
const answer = (a: ChatAnswer) => a

/** An SSE response; `cut` makes the body fail after the frames, as a dropped connection does. */
function sse(frames: string[], { cut = false, headers = {} as Record<string, string> } = {}): Response {
  const queue = [...frames]
  // One frame per pull: erroring a stream discards what is still queued in it.
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      const f = queue.shift()
      if (f !== undefined) c.enqueue(enc.encode(f))
      else if (cut) c.error(new TypeError('terminated'))
      else c.close()
    },
  }, { highWaterMark: 0 })
  return new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'x-trace-id': TRACE, 'x-chat-transport': 'sse', ...headers } })
}

const errorJson = (status: number, code: string, headers: Record<string, string> = {}) =>
  Response.json({ error: { code, message: `${code}!`, trace_id: TRACE } }, { status, headers: { 'x-trace-id': TRACE, ...headers } })

type Step = Response | Error | ((init: RequestInit) => Response | Error)

/** fetch that answers from a script and records every request's headers. */
function scripted(steps: Step[]) {
  const calls: Record<string, string>[] = []
  const fetch = (async (_url: string, init: RequestInit) => {
    calls.push(Object.fromEntries(new Headers(init.headers).entries()))
    const step = steps.shift()
    if (!step) throw new Error('unexpected extra request')
    const r = typeof step === 'function' ? step(init) : step
    if (r instanceof Error) throw r
    return r
  }) as typeof globalThis.fetch
  return { fetch, calls }
}

async function run(steps: Step[], extra: Partial<ChatOptions> = {}) {
  const { fetch, calls } = scripted(steps)
  const delays: number[] = []
  const stream = streamChat({
    url: 'http://functions.test', getToken: () => 'tok', session_id: SESSION, content: 'hi',
    fetch, random: () => 0.5, sleep: async (ms) => { delays.push(ms) },
    ...extra,
  } as ChatOptions)
  const events: ChatEvent[] = []
  for await (const e of stream) events.push(e)
  return { events, calls, delays, result: await stream.result }
}

const types = (events: ChatEvent[]) => events.map((e) => e.type)

describe('streamChat', () => {
  it('streams a whole answer: open, deltas, done with client TTFB', async () => {
    let t = 100
    const { events, result, calls } = await run([sse([delta(1, 'Hel'), delta(2, 'lo'), done])], { now: () => (t += 10) })
    expect(types(events)).toEqual(['open', 'delta', 'delta', 'done'])
    expect(events[0]).toEqual({ type: 'open', trace_id: TRACE, transport: 'sse' })
    expect(events[1]).toEqual({ type: 'delta', seq: 1, text: 'Hel' })
    // Every field of the done frame but its trace id (the open event's); now(): 110 at start, 120 at the first delta.
    const { trace_id: _, ...fields } = DONE
    expect(events[3]).toEqual({ type: 'done', ...fields, client_ttfb_ms: 10 })
    expect(result).toMatchObject({ text: 'Hello', trace_id: TRACE, transport: 'sse', error: null })
    expect(calls[0]).toMatchObject({ authorization: 'Bearer tok', accept: 'text/event-stream', 'content-type': 'application/json' })
    expect(calls[0]!['last-event-id']).toBeUndefined()
  })

  it('retries 429 after exactly retry-after, and 5xx with full-jitter backoff', async () => {
    const { events, delays, result } = await run([
      errorJson(429, 'rate_limited', { 'retry-after': '2' }),
      errorJson(503, 'database_unavailable'),
      errorJson(502, 'provider_error'),
      sse([delta(1, 'ok'), done]),
    ])
    // random() = 0.5: attempt 2 → 0.5·min(10 000, 500·2) = 500, attempt 3 → 0.5·2000.
    expect(delays).toEqual([2000, 500, 1000])
    expect(events.filter((e) => e.type === 'retry')).toEqual([
      { type: 'retry', attempt: 1, delay_ms: 2000, reason: 'status_429' },
      { type: 'retry', attempt: 2, delay_ms: 500, reason: 'status_5xx' },
      { type: 'retry', attempt: 3, delay_ms: 1000, reason: 'status_5xx' },
    ])
    expect(result.text).toBe('ok')
  })

  it.each([400, 401, 403, 404, 409, 413, 415, 422])('never retries %i', async (status) => {
    const { events, calls, result } = await run([errorJson(status, 'nope')])
    expect(calls).toHaveLength(1)
    expect(types(events)).toEqual(['error'])
    expect(result.error).toMatchObject({ code: 'nope', status, retryable: false, trace_id: TRACE })
  })

  it('gives up after maxAttempts, saying the failure was transient', async () => {
    const { calls, result, events } = await run(Array.from({ length: 3 }, () => errorJson(503, 'database_unavailable')), { maxAttempts: 3 })
    expect(calls).toHaveLength(3)
    expect(types(events)).toEqual(['retry', 'retry', 'error'])
    expect(result.error).toMatchObject({ code: 'database_unavailable', retryable: true })
  })

  it('does not wait a retry-after longer than a minute', async () => {
    const { calls, result } = await run([errorJson(429, 'rate_limited', { 'retry-after': '3600' })])
    expect(calls).toHaveLength(1)
    expect(result.error).toMatchObject({ code: 'rate_limited', retryable: true })
  })

  it('resumes a cut stream with Last-Event-ID and drops replayed duplicates', async () => {
    const { events, calls, result } = await run([
      sse([delta(1, 'The '), delta(2, 'quick ')], { cut: true }),
      // A server (or a cache) that replays from further back than asked: the client dedupes.
      sse([delta(1, 'The '), delta(2, 'quick '), delta(3, 'fox'), done], { headers: { 'x-resumed-from': '2' } }),
    ])
    expect(result.text).toBe('The quick fox')
    expect(calls[1]).toMatchObject({ 'last-event-id': '2', 'x-resume-trace-id': TRACE })
    expect(types(events)).toEqual(['open', 'delta', 'delta', 'retry', 'resume', 'delta', 'done'])
    expect(events.find((e) => e.type === 'retry')).toMatchObject({ reason: 'stream_cut' })
    expect(events.find((e) => e.type === 'resume')).toEqual({ type: 'resume', from_seq: 2 })
    // Same trace on both attempts, a new parent span each.
    const [a, b] = calls.map((c) => c.traceparent!.split('-'))
    expect(a![1]).toBe(b![1])
    expect(a![2]).not.toBe(b![2])
  })

  it("resumes by the server's x-stream-id, not by trace id, when the server names its streams", async () => {
    const STREAM = '0b6f7d1e-3c2a-4f5e-9d8c-7b6a5f4e3d2c'
    const { calls, result } = await run([
      sse([delta(1, 'The ')], { cut: true, headers: { 'x-stream-id': STREAM } }),
      sse([delta(2, 'fox'), done], { headers: { 'x-stream-id': STREAM, 'x-resumed-from': '1' } }),
    ])
    expect(result.text).toBe('The fox')
    expect(calls[1]).toMatchObject({ 'last-event-id': '1', 'x-resume-stream-id': STREAM })
    expect(calls[1]!['x-resume-trace-id']).toBeUndefined()
  })

  it('resumes from the last contiguous seq when one is missing', async () => {
    const { calls, result } = await run([
      sse([delta(1, 'a'), delta(3, 'c'), delta(4, 'd')]),
      sse([delta(2, 'b'), delta(3, 'c'), delta(4, 'd'), done]),
    ])
    expect(calls[1]!['last-event-id']).toBe('1')
    expect(result.text).toBe('abcd')
  })

  it('resumes a stream cut before any delta from seq 0, not with a new question', async () => {
    const { calls, result } = await run([sse([], { cut: true }), sse([delta(1, 'x'), done])])
    expect(calls[1]).toMatchObject({ 'last-event-id': '0', 'x-resume-trace-id': TRACE })
    expect(result.text).toBe('x')
  })

  it("uses the stream's retry field as the reconnection delay", async () => {
    const { delays } = await run([sse(['retry: 1234\n\n', delta(1, 'a')], { cut: true }), sse([delta(2, 'b'), done])])
    expect(delays).toEqual([1234])
  })

  it('resets the attempt count whenever a resume makes progress', async () => {
    const steps: Step[] = []
    for (let i = 1; i <= 8; i++) steps.push(sse([delta(i, String(i))], { cut: true }))
    steps.push(sse([done]))
    const { result } = await run(steps, { maxAttempts: 2 })
    expect(result.error).toBe(null)
    expect(result.text).toBe('12345678')
  })

  it("keeps what arrived and surfaces stream_gone when a resume finds the stream gone (default onGone: 'keep')", async () => {
    const { events, calls, result } = await run([sse([delta(1, 'a')], { cut: true }), errorJson(410, 'stream_gone')])
    expect(calls).toHaveLength(2)
    expect(types(events)).toEqual(['open', 'delta', 'retry', 'gone', 'error'])
    expect(events.find((e) => e.type === 'gone')).toEqual({ type: 'gone', trace_id: TRACE, last_seq: 1, action: 'keep' })
    expect(result).toMatchObject({ text: 'a', partial: true, done: null, error: { code: 'stream_gone', retryable: false } })
  })

  it("takes onGone: 'fail' (the former name) as 'keep'", async () => {
    const { events, result } = await run([sse([delta(1, 'a')], { cut: true }), errorJson(410, 'stream_gone')], { onGone: 'fail' })
    expect(events.find((e) => e.type === 'gone')).toMatchObject({ action: 'keep' })
    expect(result).toMatchObject({ text: 'a', partial: true, error: { code: 'stream_gone' } })
  })

  it('keeps the prefix when a resume ends with stream_cut (the server generating it stopped)', async () => {
    const cutFrame = formatError({ trace_id: TRACE, code: 'stream_cut', message: 'cut' })
    const { events, result } = await run([sse([delta(1, 'a')], { cut: true }), sse([delta(1, 'a'), delta(2, 'b'), cutFrame])])
    expect(types(events)).toEqual(['open', 'delta', 'retry', 'resume', 'delta', 'error'])
    expect(result).toMatchObject({ text: 'ab', partial: true, done: null, error: { code: 'stream_cut', retryable: true } })
  })

  it("asks again as a new chat when allowed (onGone: 'restart'), starting the text over", async () => {
    const OTHER = 'b'.repeat(32)
    const { events, calls, result } = await run([
      sse([delta(1, 'a')], { cut: true }),
      errorJson(410, 'stream_gone'),
      sse([delta(1, 'x'), delta(2, 'y'), done], { headers: { 'x-trace-id': OTHER } }),
    ], { onGone: 'restart' })
    expect(calls[2]!['last-event-id']).toBeUndefined()
    expect(calls[2]!['x-resume-trace-id']).toBeUndefined()
    expect(calls[2]!.traceparent!.split('-')[1]).not.toBe(calls[0]!.traceparent!.split('-')[1])
    expect(types(events)).toEqual(['open', 'delta', 'retry', 'gone', 'open', 'delta', 'delta', 'done'])
    expect(result).toMatchObject({ text: 'xy', trace_id: OTHER, error: null })
  })

  it('falls back to JSON after two network failures before the first byte', async () => {
    const json = Response.json(
      answer({ trace_id: TRACE, message_id: 'm-2', content: 'whole answer', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 2 }, ttfb_ms: 5, duration_ms: 9 }),
      { headers: { 'x-chat-transport': 'http', 'x-trace-id': TRACE } },
    )
    const { events, calls, result } = await run([new TypeError('fetch failed'), new TypeError('fetch failed'), json])
    expect(calls.map((c) => c.accept)).toEqual(['text/event-stream', 'text/event-stream', 'application/json'])
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)).toEqual(['network', 'fallback_http'])
    expect(events.slice(-3)).toMatchObject([
      { type: 'open', transport: 'http', trace_id: TRACE },
      { type: 'delta', seq: 1, text: 'whole answer' },
      { type: 'done', message_id: 'm-2', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 2 }, ttfb_ms: 5, duration_ms: 9 },
    ])
    expect(result).toMatchObject({ text: 'whole answer', transport: 'http' })
  })

  it('reads a JSON answer when the server backs out of SSE', async () => {
    const json = Response.json({ trace_id: TRACE, message_id: 'm-3', content: 'plain', finish_reason: 'stop', usage: {}, ttfb_ms: 1, duration_ms: 2 })
    const { events, result } = await run([json])
    expect(types(events)).toEqual(['open', 'delta', 'done'])
    expect(result).toMatchObject({ text: 'plain', transport: 'http' })
  })

  it("asks for JSON from the start with transport: 'http'", async () => {
    const json = Response.json({ trace_id: TRACE, message_id: 'm', content: '', finish_reason: 'stop', usage: {}, ttfb_ms: 1, duration_ms: 2 })
    const { calls } = await run([json], { transport: 'http' })
    expect(calls[0]!.accept).toBe('application/json')
  })

  it('ends with an error event when the stream ends with one (no retry: it would ask again)', async () => {
    const err = formatError({ trace_id: TRACE, code: 'provider_stream_error', message: 'boom' })
    const { events, calls } = await run([sse([delta(1, 'a'), err])])
    expect(calls).toHaveLength(1)
    expect(events.at(-1)).toEqual({ type: 'error', code: 'provider_stream_error', message: 'boom', trace_id: TRACE, retryable: true })
  })

  it('asks the token getter before every attempt', async () => {
    let n = 0
    const { calls } = await run([errorJson(503, 'x'), sse([delta(1, 'a'), done])], { getToken: async () => `tok-${++n}` })
    expect(calls.map((c) => c.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2'])
  })

  it('continues a traceparent it is given', async () => {
    const tp = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`
    const { calls } = await run([sse([delta(1, 'a'), done])], { traceparent: tp })
    expect(calls[0]!.traceparent).toMatch(new RegExp(`^00-${'c'.repeat(32)}-[0-9a-f]{16}-01$`))
  })

  it('calls the callbacks with the same events the iterator yields', async () => {
    const seen: string[] = []
    const { events } = await run([sse([delta(1, 'a'), done])], {
      onEvent: (e) => seen.push(`event:${e.type}`),
      onDelta: (e) => seen.push(`delta:${e.text}`),
      onDone: () => seen.push('done'),
    })
    expect(types(events)).toEqual(['open', 'delta', 'done'])
    expect(seen).toEqual(['event:open', 'event:delta', 'delta:a', 'event:done', 'done'])
  })

  it('stops on abort with an aborted error, without retrying', async () => {
    const controller = new AbortController()
    const { fetch, calls } = scripted([(init) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(delta(1, 'a')))
          init.signal!.addEventListener('abort', () => c.error(init.signal!.reason))
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream', 'x-trace-id': TRACE } })
    }])
    const stream = streamChat({ url: 'http://functions.test', session_id: SESSION, content: 'hi', fetch, signal: controller.signal })
    for await (const e of stream) if (e.type === 'delta') controller.abort(new Error('stop pressed'))
    const result = await stream.result
    expect(calls).toHaveLength(1)
    expect(result).toMatchObject({ text: 'a', error: { code: 'aborted', message: 'stop pressed', trace_id: TRACE, retryable: false } })
  })

  it('delivers no delta after an abort, even ones already read in the same chunk', async () => {
    const controller = new AbortController()
    const seen: number[] = []
    // Five frames in one chunk: a fast server's frames often arrive together.
    const { result } = await run([sse([[1, 2, 3, 4, 5].map((n) => delta(n, `t${n} `)).join('') + done])], {
      signal: controller.signal,
      onDelta: (e) => { seen.push(e.seq); if (e.seq === 3) controller.abort(new Error('stop pressed')) },
    })
    expect(seen).toEqual([1, 2, 3])
    expect(result).toMatchObject({ text: 't1 t2 t3 ', done: null, error: { code: 'aborted', message: 'stop pressed' } })
  })

  it('aborts the request when the consumer stops iterating', async () => {
    let signal: AbortSignal | undefined
    const { fetch } = scripted([(init) => {
      signal = init.signal!
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(delta(1, 'a')))
          signal!.addEventListener('abort', () => c.error(signal!.reason))
        },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream', 'x-trace-id': TRACE } })
    }])
    const stream = streamChat({ url: 'http://functions.test', session_id: SESSION, content: 'hi', fetch })
    for await (const e of stream) if (e.type === 'open') break
    expect(signal!.aborted).toBe(true)
    expect((await stream.result).error?.code).toBe('aborted')
  })

  it('posts the client timings to beaconUrl after done', async () => {
    const beacons: unknown[] = []
    const { fetch } = scripted([sse([delta(1, 'a'), done]), (init) => {
      beacons.push(JSON.parse(String(init.body)))
      return new Response(null, { status: 202 })
    }])
    let t = 0
    const stream = streamChat({ url: 'http://f.test', session_id: SESSION, content: 'hi', fetch, beaconUrl: 'http://f.test/beacon', now: () => (t += 5) })
    await stream.result
    await until(() => beacons.length > 0, 'the beacon')
    expect(beacons).toEqual([{ trace_id: TRACE, client_ttfb_ms: 5, client_duration_ms: 10 }])
  })

  it('names the timed answer by its x-stream-id in the beacon', async () => {
    const STREAM = '0b6f7d1e-3c2a-4f5e-9d8c-7b6a5f4e3d2c'
    const beacons: unknown[] = []
    const { fetch } = scripted([sse([delta(1, 'a'), done], { headers: { 'x-stream-id': STREAM } }), (init) => {
      beacons.push(JSON.parse(String(init.body)))
      return new Response(null, { status: 204 })
    }])
    let t = 0
    const stream = streamChat({ url: 'http://f.test', session_id: SESSION, content: 'hi', fetch, beaconUrl: 'http://f.test/beacon', now: () => (t += 5) })
    await stream.result
    await until(() => beacons.length > 0, 'the beacon')
    expect(beacons).toEqual([{ stream_id: STREAM, trace_id: TRACE, client_ttfb_ms: 5, client_duration_ms: 10 }])
  })

  describe('a stream that goes silent (half-open connection)', () => {
    // On a fake clock: silence is measured exactly, and a busy machine cannot make a live
    // stream look silent.
    beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }) })
    afterEach(() => { vi.useRealTimers() })

    /** Sends `script` one item every `everyMs`, then holds the connection open without a byte. As fetch does, an abort errors the body. */
    function silent(init: RequestInit, script: string[], { everyMs = 10, headers = {} as Record<string, string> } = {}): Response {
      const queue = [...script]
      let timer: ReturnType<typeof setTimeout> | undefined
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          init.signal?.addEventListener('abort', () => { clearTimeout(timer); c.error(init.signal!.reason) }, { once: true })
          const next = () => {
            const f = queue.shift()
            if (f === undefined) return // silence from here on
            c.enqueue(enc.encode(f))
            timer = setTimeout(next, everyMs)
          }
          next()
        },
        cancel() { clearTimeout(timer) },
      })
      return new Response(body, { headers: { 'content-type': 'text/event-stream', 'x-trace-id': TRACE, ...headers } })
    }

    it("resumes after 3 × the server's x-heartbeat-seconds without a byte", async () => {
      const t0 = Date.now()
      let resumedAfter: number | undefined
      const running = run([
        (init) => silent(init, [delta(1, 'Hel')], { headers: { 'x-heartbeat-seconds': '0.02' } }),
        () => { resumedAfter = Date.now() - t0; return sse([delta(2, 'lo'), done]) },
      ])
      await vi.advanceTimersByTimeAsync(59)
      expect(resumedAfter).toBeUndefined() // 59 ms of silence: still waiting
      await vi.advanceTimersByTimeAsync(1)
      const { events, calls, result } = await running
      expect(resumedAfter).toBe(60) // resumed at 60 ms of silence, not before
      expect(result).toMatchObject({ text: 'Hello', error: null })
      expect(calls[1]).toMatchObject({ 'last-event-id': '1', 'x-resume-trace-id': TRACE })
      expect(events.find((e) => e.type === 'retry')).toMatchObject({ reason: 'stream_cut' })
      expect(types(events)).toContain('resume')
    })

    it('counts heartbeat comments as life: a quiet but live stream is not resumed', async () => {
      // 140 ms without a delta, never 50 ms without a byte.
      const beats = Array.from({ length: 12 }, () => ': heartbeat\n\n')
      const running = run([
        (init) => silent(init, [delta(1, 'a'), ...beats, delta(2, 'b'), done], { everyMs: 10 }),
      ], { idleTimeoutMs: 50 })
      await vi.advanceTimersByTimeAsync(1_000)
      const { calls, result } = await running
      expect(result).toMatchObject({ text: 'ab', error: null })
      expect(calls).toHaveLength(1)
    })
  })
})
