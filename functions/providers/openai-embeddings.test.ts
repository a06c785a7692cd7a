import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ERROR_SCENARIOS, openaiError, startOpenAIServer, type OpenAIServer, type Scenario } from '../../tests/support/openai-server.ts'
import { freePort } from '../../tests/support/pg-cluster.ts'
import { createOpenAIEmbeddingProvider } from './openai-embeddings.ts'
import { countTokens } from './tokens.ts'
import { ProviderError } from './types.ts'

const KEY = 'sk-embed-SECRET-9876543210zyxwvu'
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

let server: OpenAIServer
beforeAll(async () => { server = await startOpenAIServer() })
afterAll(() => server.close())
beforeEach(() => { server.requests.length = 0; server.setDefault({}) })

const provider = (over: { apiKey?: string; baseUrl?: string } = {}) =>
  createOpenAIEmbeddingProvider({ baseUrl: server.baseUrl, apiKey: KEY, timeoutMs: 5_000, ...over })

const embed = (inputs: string[], dimension = 4, p = provider(), signal = new AbortController().signal) =>
  p.embed({ model: 'text-embedding-3-small', inputs, dimension, signal, traceHeaders: { traceparent: TRACEPARENT } })

function expectNoKey(err: unknown) {
  expect(err).toBeInstanceOf(ProviderError)
  const e = err as ProviderError
  for (const text of [String(e), e.message, JSON.stringify(e), JSON.stringify({ ...e, message: e.message }), e.stack ?? '']) {
    expect(text).not.toContain(KEY)
    expect(text).not.toContain('SECRET-9876543210')
  }
}

describe('OpenAI-compatible embedding provider', () => {
  it('posts the inputs and returns one vector per input with the reported usage', async () => {
    const result = await embed(['alpha beta', 'gamma'])
    expect(result.vectors).toHaveLength(2)
    expect(result.vectors.map((v) => v.length)).toEqual([4, 4])
    expect(result.vectors.map((v) => v[0])).toEqual([1, 2])
    expect(result).toMatchObject({ model: 'text-embedding-3-small', usage: { input_tokens: 3, estimated: false } })
    const [req] = server.requests
    expect(req.path).toBe('/v1/embeddings')
    expect(req.body).toEqual({ model: 'text-embedding-3-small', input: ['alpha beta', 'gamma'], dimensions: 4, encoding_format: 'float' })
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`)
    expect(req.headers.traceparent).toBe(TRACEPARENT)
  })

  it('orders vectors by data[i].index, not by array order', async () => {
    server.next({ reverseEmbeddings: true })
    const result = await embed(['a', 'b', 'c'])
    expect(result.vectors.map((v) => v[0])).toEqual([1, 2, 3])
  })

  it('estimates usage with the tokenizer when the upstream reports none', async () => {
    server.next({ usage: false })
    const inputs = ['hello world', 'streamscope embeds text']
    const result = await embed(inputs)
    expect(result.usage).toEqual({ input_tokens: inputs.reduce((n, s) => n + countTokens(s), 0), estimated: true })
  })

  it('sends no authorization header without a key', async () => {
    await embed(['x'], 4, provider({ apiKey: '' }))
    expect(server.requests[0].headers.authorization).toBeUndefined()
  })

  it('drops `dimensions` for good when the model refuses it, then checks the length it got', async () => {
    const p = provider()
    server.next({ error: { status: 400, body: openaiError('This model does not support specifying dimensions.', 'invalid_request_error', null, 'dimensions') } })
    server.setDefault({ embeddingDimension: 4 })
    const result = await embed(['x'], 4, p)
    expect(result.vectors[0]).toHaveLength(4)
    expect(server.requests.map((r) => 'dimensions' in r.body)).toEqual([true, false])
    server.setDefault({ embeddingDimension: 3 })
    await expect(embed(['x'], 4, p)).rejects.toMatchObject({ code: 'provider_bad_request' })
    expect(server.requests[2].body.dimensions).toBeUndefined()
  })

  const cases: [string, Scenario['error'], string, number][] = [
    ['404 unknown model', ERROR_SCENARIOS.unknownModel, 'provider_bad_request', 404],
    ['400 bad request', ERROR_SCENARIOS.badRequest, 'provider_bad_request', 400],
    ['422 validation error', ERROR_SCENARIOS.unprocessable, 'provider_bad_request', 422],
    ['401 wrong key', ERROR_SCENARIOS.unauthorized, 'provider_auth_failed', 401],
    ['403 forbidden', ERROR_SCENARIOS.forbidden, 'provider_auth_failed', 403],
    ['429 rate limited', ERROR_SCENARIOS.rateLimited, 'provider_rate_limited', 429],
    ['500 server error', ERROR_SCENARIOS.serverError, 'provider_unavailable', 500],
    ['503 text body', ERROR_SCENARIOS.overloaded, 'provider_unavailable', 503],
  ]
  for (const [name, error, code, status] of cases) {
    it(`maps ${name} to ${code} without leaking the key`, async () => {
      server.next({ error, echoKey: true })
      const err = await embed(['x']).catch((e) => e)
      expect(err).toMatchObject({ code, status })
      expectNoKey(err)
    })
  }

  it("passes 429's retry-after on", async () => {
    server.next({ error: ERROR_SCENARIOS.rateLimitedMs })
    await expect(embed(['x'])).rejects.toMatchObject({ code: 'provider_rate_limited', retryAfter: 1.5 })
  })

  it('maps a refused connection to provider_unavailable', async () => {
    const port = await freePort()
    const err = await embed(['x'], 4, provider({ baseUrl: `http://127.0.0.1:${port}/v1` })).catch((e) => e)
    expect(err).toMatchObject({ code: 'provider_unavailable' })
    expectNoKey(err)
  })

  it('hangs up on the upstream when the caller aborts', async () => {
    server.next({ headersDelayMs: 10_000 })
    const controller = new AbortController()
    const pending = embed(['x'], 4, provider(), controller.signal).catch((e) => e)
    await server.received(0) // the request is at the upstream, which holds its answer
    controller.abort(new Error('gone'))
    expect(await pending).toMatchObject({ message: 'gone' })
    await server.disconnected(0)
  })
})
