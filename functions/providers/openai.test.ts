import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CHUNKS, ERROR_SCENARIOS, startOpenAIServer, type OpenAIServer, type Scenario } from '../../tests/support/openai-server.ts'
import { freePort } from '../../tests/support/pg-cluster.ts'
import type { Fetch } from './openai-http.ts'
import { createOpenAIProvider } from './openai.ts'
import { countMessageTokens, countTokens } from './tokens.ts'
import { ProviderError, type ChatMessage, type ProviderEvent } from './types.ts'

const KEY = 'sk-test-SECRET-0123456789abcdefghij'
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }]

let server: OpenAIServer
beforeAll(async () => { server = await startOpenAIServer() })
afterAll(() => server.close())
beforeEach(() => { server.requests.length = 0; server.setDefault({}) })

const provider = (over: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}, fetch?: Fetch) =>
  createOpenAIProvider({ baseUrl: server.baseUrl, apiKey: KEY, timeoutMs: 5_000, ...over }, { fetch })

/** fetch, and a promise that resolves once its response headers are in. */
function watchedFetch() {
  let headersIn!: () => void
  const headers = new Promise<void>((resolve) => { headersIn = resolve })
  const watched: Fetch = async (input, init) => {
    const res = await fetch(input, init)
    headersIn()
    return res
  }
  return { fetch: watched, headers }
}

async function run(p = provider(), signal = new AbortController().signal) {
  const events: ProviderEvent[] = []
  try {
    for await (const e of p.stream({ model: 'gpt-test', messages, maxTokens: 50, signal, traceHeaders: { traceparent: TRACEPARENT } })) events.push(e)
    return { events, error: undefined }
  } catch (error) {
    return { events, error: error as ProviderError }
  }
}

const deltas = (events: ProviderEvent[]) => events.flatMap((e) => (e.type === 'delta' ? [e.text] : []))

/** The key must be in no form a caller could log or store. */
function expectNoKey(err: unknown) {
  expect(err).toBeInstanceOf(ProviderError)
  const e = err as ProviderError
  for (const text of [String(e), e.message, JSON.stringify(e), JSON.stringify({ ...e, message: e.message, stack: e.stack }), e.stack ?? '']) {
    expect(text).not.toContain(KEY)
    expect(text).not.toContain('SECRET-0123456789')
  }
}

describe('OpenAI-compatible chat provider', () => {
  it('streams the deltas in order, then done with the usage the provider reported', async () => {
    server.setDefault({ model: 'gpt-test-2024-08-06', usage: { prompt_tokens: 21, completion_tokens: 6 } })
    const { events, error } = await run()
    expect(error).toBeUndefined()
    expect(deltas(events)).toEqual(DEFAULT_CHUNKS)
    expect(deltas(events).join('')).toBe('Hello from the fake model.')
    expect(events.at(-1)).toEqual({
      type: 'done', finish_reason: 'stop', response_model: 'gpt-test-2024-08-06',
      usage: { input_tokens: 21, output_tokens: 6, estimated: false },
    })
    expect(events.filter((e) => e.type === 'done')).toHaveLength(1)
  })

  it('sends the model, limit, stream options, traceparent and bearer key', async () => {
    await run()
    const [req] = server.requests
    expect(req.path).toBe('/v1/chat/completions')
    expect(req.body).toEqual({ model: 'gpt-test', messages, max_tokens: 50, stream: true, stream_options: { include_usage: true } })
    expect(req.headers.traceparent).toBe(TRACEPARENT)
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`)
    expect(req.headers['content-type']).toBe('application/json')
  })

  it('sends no authorization header without a key (Ollama, a local vLLM)', async () => {
    const { error } = await run(provider({ apiKey: '' }))
    expect(error).toBeUndefined()
    expect(server.requests[0].headers.authorization).toBeUndefined()
  })

  it('names the upstream host as its address', () => {
    expect(provider().address).toBe(new URL(server.baseUrl).host)
    expect(provider().name).toBe('openai')
  })

  it('estimates usage with the tokenizer when the stream has no usage chunk, and says so', async () => {
    server.setDefault({ usage: false, finishReason: 'length' })
    const { events } = await run()
    expect(events.at(-1)).toEqual({
      type: 'done', finish_reason: 'length', response_model: 'gpt-test',
      usage: { input_tokens: countMessageTokens(messages), output_tokens: countTokens(DEFAULT_CHUNKS.join('')), estimated: true },
    })
  })

  it("reads Groq's usage from x_groq on the last chunk", async () => {
    const groq = { id: 'chatcmpl-g', object: 'chat.completion.chunk', created: 1, model: 'llama-3.1-8b-instant', choices: [], x_groq: { id: 'req_1', usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } } }
    server.next({ usage: false, rawAfter: `data: ${JSON.stringify(groq)}` })
    const { events } = await run()
    expect(events.at(-1)).toMatchObject({ usage: { input_tokens: 9, output_tokens: 2, estimated: false } })
  })

  it('keeps multi-byte text intact', async () => {
    server.next({ chunks: ['héllo ', '🌍', ' 你好', '\n\n', 'data: not a frame'] })
    const { events } = await run()
    expect(deltas(events).join('')).toBe('héllo 🌍 你好\n\ndata: not a frame')
  })

  it('accepts a clean end after finish_reason without [DONE], and a server that ignores stream: true', async () => {
    server.next({ omitDone: true }, { noStream: true, usage: { prompt_tokens: 3, completion_tokens: 4 } })
    const a = await run()
    expect(a.error).toBeUndefined()
    expect(deltas(a.events).join('')).toBe(DEFAULT_CHUNKS.join(''))
    const b = await run()
    expect(deltas(b.events)).toEqual([DEFAULT_CHUNKS.join('')])
    expect(b.events.at(-1)).toMatchObject({ usage: { input_tokens: 3, output_tokens: 4, estimated: false } })
  })

  it('switches to max_completion_tokens when the model refuses max_tokens', async () => {
    const p = provider()
    server.next({ error: ERROR_SCENARIOS.refusesMaxTokens })
    const { error, events } = await run(p)
    expect(error).toBeUndefined()
    expect(deltas(events).join('')).toBe(DEFAULT_CHUNKS.join(''))
    expect(server.requests.map((r) => Object.keys(r.body).filter((k) => k.startsWith('max_')))).toEqual([['max_tokens'], ['max_completion_tokens']])
    await run(p)
    expect(server.requests[2].body.max_completion_tokens).toBe(50)
  })

  it('retries every in-flight request that was refused max_tokens, not just the first', async () => {
    const p = provider()
    server.next({ error: ERROR_SCENARIOS.refusesMaxTokens, headersDelayMs: 50 }, { error: ERROR_SCENARIOS.refusesMaxTokens, headersDelayMs: 100 })
    const results = await Promise.all([run(p), run(p)])
    expect(results.map((r) => r.error)).toEqual([undefined, undefined])
  })

  const cases: [string, Scenario['error'], string, number | undefined][] = [
    ['400 bad request', ERROR_SCENARIOS.badRequest, 'provider_bad_request', 400],
    ['404 unknown model', ERROR_SCENARIOS.unknownModel, 'provider_bad_request', 404],
    ['422 validation error (vLLM/FastAPI shape)', ERROR_SCENARIOS.unprocessable, 'provider_bad_request', 422],
    ['401 wrong key', ERROR_SCENARIOS.unauthorized, 'provider_auth_failed', 401],
    ['403 forbidden', ERROR_SCENARIOS.forbidden, 'provider_auth_failed', 403],
    ['429 rate limited', ERROR_SCENARIOS.rateLimited, 'provider_rate_limited', 429],
    ['500 server error', ERROR_SCENARIOS.serverError, 'provider_unavailable', 500],
    ['503 with a text body', ERROR_SCENARIOS.overloaded, 'provider_unavailable', 503],
  ]
  for (const [name, error, code, status] of cases) {
    it(`maps ${name} to ${code}, without the key even when the upstream echoes it`, async () => {
      server.next({ error, echoKey: true })
      const { events, error: err } = await run()
      expect(events).toEqual([])
      expect(err).toBeInstanceOf(ProviderError)
      expect(err).toMatchObject({ code, status })
      expect(err!.message.length).toBeGreaterThan(10)
      expectNoKey(err)
    })
  }

  it('keeps the upstream message and code for 4xx', async () => {
    server.next({ error: ERROR_SCENARIOS.unknownModel })
    const { error } = await run()
    expect(error!.message).toContain('does not exist')
    expect(error!.message).toContain('model_not_found')
  })

  it("gives 429's retry-after in seconds, preferring retry-after-ms", async () => {
    server.next({ error: ERROR_SCENARIOS.rateLimited }, { error: ERROR_SCENARIOS.rateLimitedMs })
    expect((await run()).error).toMatchObject({ code: 'provider_rate_limited', retryAfter: 7 })
    expect((await run()).error).toMatchObject({ code: 'provider_rate_limited', retryAfter: 1.5 })
  })

  it('turns an error event mid-stream into provider_stream_error after the deltas before it', async () => {
    server.next({ errorAfter: 3, echoKey: true })
    const { events, error } = await run()
    expect(deltas(events)).toEqual(DEFAULT_CHUNKS.slice(0, 3))
    expect(error).toMatchObject({ code: 'provider_stream_error' })
    expect(error!.message).toContain('server had an error')
    expectNoKey(error)
  })

  it('turns a connection cut mid-stream into provider_stream_error after the deltas that arrived', async () => {
    server.next({ destroyAfter: 2 })
    const { events, error } = await run()
    expect(deltas(events)).toEqual(DEFAULT_CHUNKS.slice(0, 2))
    expect(events.some((e) => e.type === 'done')).toBe(false)
    expect(error).toMatchObject({ code: 'provider_stream_error' })
    expectNoKey(error)
  })

  it('turns a clean end without [DONE] or finish_reason into provider_stream_error', async () => {
    server.next({ endAfter: 2 })
    const { events, error } = await run()
    expect(deltas(events)).toEqual(DEFAULT_CHUNKS.slice(0, 2))
    expect(error).toMatchObject({ code: 'provider_stream_error' })
    expect(error!.message).toContain('without [DONE]')
  })

  it('turns a chunk that is not JSON into provider_stream_error', async () => {
    server.next({ chunks: ['ok'], rawAfter: 'data: {not json' })
    const { error } = await run()
    expect(error).toMatchObject({ code: 'provider_stream_error' })
  })

  it('maps a refused connection to provider_unavailable', async () => {
    const port = await freePort()
    const { error } = await run(provider({ baseUrl: `http://127.0.0.1:${port}/v1` }))
    expect(error).toMatchObject({ code: 'provider_unavailable', status: undefined })
    expect(error!.message).toContain(`127.0.0.1:${port}`)
    expectNoKey(error)
  })

  it('gives up on response headers after timeoutMs with provider_unavailable, and hangs up', async () => {
    // The server answers only long after the timeout (its timer is armed after the client's, in
    // this process: it cannot fire first). The timeout is generous so the request surely arrives
    // before it, for the hang-up to be seen.
    server.next({ headersDelayMs: 60_000 })
    const { error } = await run(provider({ timeoutMs: 2_000 }))
    expect(error).toMatchObject({ code: 'provider_unavailable' })
    expect(error!.message).toContain('2000 ms')
    await server.disconnected(0)
    expectNoKey(error)
  })

  it('does not time out a slow stream once the headers are in', async () => {
    // The headers come at once; the body only after a timer as long as the header timeout and
    // armed after it. Timers fire in the order they fall due, so a header timer still armed
    // would fire first and abort the body, as fetch does.
    const chunk = (choice: object) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-test', choices: [{ index: 0, ...choice }] })}\n\n`
    const slowBody: Fetch = async (_input, init) => new Response(new ReadableStream<Uint8Array>({
      start(c) {
        init?.signal?.addEventListener('abort', () => c.error(init.signal!.reason), { once: true })
        setTimeout(() => {
          const texts = [...['a', 'b', 'c'].map((content) => chunk({ delta: { content }, finish_reason: null })), chunk({ delta: {}, finish_reason: 'stop' }), 'data: [DONE]\n\n']
          for (const text of texts) c.enqueue(new TextEncoder().encode(text))
          c.close()
        }, 151)
      },
    }), { headers: { 'content-type': 'text/event-stream' } })
    const { events, error } = await run(provider({ timeoutMs: 150 }, slowBody))
    expect(error).toBeUndefined()
    expect(deltas(events)).toEqual(['a', 'b', 'c'])
  })

  it('closes the upstream connection promptly when the caller aborts mid-stream', async () => {
    server.next({ chunkDelayMs: 10_000, chunks: ['first', ' never'] })
    const controller = new AbortController()
    const events: ProviderEvent[] = []
    let caught: unknown
    try {
      for await (const e of provider().stream({ model: 'm', messages, maxTokens: 5, signal: controller.signal })) {
        events.push(e)
        controller.abort(new Error('client went away'))
      }
    } catch (err) {
      caught = err
    }
    expect(deltas(events)).toEqual(['first'])
    expect((caught as Error).message).toBe('client went away')
    const at = await server.disconnected(0)
    expect(server.requests[0].finishedAt).toBeUndefined()
    expect(at).toBeGreaterThanOrEqual(server.requests[0].receivedAt)
  })

  it('closes the upstream connection when the caller aborts while waiting for the first chunk', async () => {
    server.next({ firstChunkDelayMs: 10_000 })
    const controller = new AbortController()
    const watched = watchedFetch()
    const pending = run(provider({}, watched.fetch), controller.signal)
    await watched.headers
    controller.abort(new Error('stop'))
    const { error, events } = await pending
    expect(events).toEqual([])
    expect((error as unknown as Error).message).toBe('stop')
    await server.disconnected(0)
  })

  it('closes the upstream connection when the consumer stops iterating early', async () => {
    server.next({ chunkDelayMs: 10_000, chunks: ['one', ' two'] })
    for await (const e of provider().stream({ model: 'm', messages, maxTokens: 5, signal: new AbortController().signal })) {
      expect(e).toEqual({ type: 'delta', text: 'one' })
      break
    }
    await server.disconnected(0)
  })
})
