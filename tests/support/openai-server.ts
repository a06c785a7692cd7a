import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SAFETY_NET_MS } from './wait.ts'

// A stand-in for an OpenAI-compatible API on 127.0.0.1 that speaks the real wire format: chat
// completion chunks with `usage: null` until the usage chunk (`choices: []`) when
// `stream_options.include_usage` is set, then `data: [DONE]`; OpenAI's error JSON; `/embeddings`.
// Each test scripts what the next answers do and reads back what the client sent and when it hung up.

export interface Scenario {
  /** Content pieces, one chunk each. */
  chunks?: string[]
  /** `model` in the chunks (default: the requested one). */
  model?: string
  finishReason?: string
  /** Usage reported in the usage chunk; `false` = no usage chunk even if asked for. */
  usage?: false | { prompt_tokens: number; completion_tokens: number }
  /** Before the response headers (the client's header timeout). */
  headersDelayMs?: number
  /** After the headers, before the first chunk. */
  firstChunkDelayMs?: number
  /** Between chunks. */
  chunkDelayMs?: number
  /** Answer with this status and body (an object is sent as JSON, a string as text/plain). */
  error?: { status: number; body: unknown; headers?: Record<string, string> }
  /** After this many content chunks: an OpenAI `{"error":…}` chunk, then the stream ends. */
  errorAfter?: number
  /** After this many content chunks: destroy the socket (no [DONE], no chunk terminator). */
  destroyAfter?: number
  /** After this many content chunks: end the response cleanly (no finish chunk, no [DONE]). */
  endAfter?: number
  /** Raw text written after the content chunks, before the finish chunk (malformed data). */
  rawAfter?: string
  /** End the stream cleanly, without [DONE]. */
  omitDone?: boolean
  /** Quote the request's authorization header in error messages (worse than OpenAI, which masks it). */
  echoKey?: boolean
  /** Embeddings: vector length when the request names no `dimensions`. */
  embeddingDimension?: number
  /** Embeddings: return the data array in reverse order (indices still right). */
  reverseEmbeddings?: boolean
  /** Ignore `stream: true` and answer one chat.completion JSON. */
  noStream?: boolean
}

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: any
  receivedAt: number
  /** When the client closed the connection before the answer was complete. */
  disconnectedAt?: number
  /** When the server finished its answer. */
  finishedAt?: number
}

export interface OpenAIServer {
  /** Ends in /v1, as OPENAI_BASE_URL would. */
  baseUrl: string
  requests: RecordedRequest[]
  /** Scenarios for the next requests, in order; after them, the default. */
  next(...scenarios: Scenario[]): void
  /** The scenario used when none is queued. */
  setDefault(scenario: Scenario): void
  /** Resolves once request `index` has arrived (its body read), or rejects after `withinMs`. */
  received(index: number, withinMs?: number): Promise<RecordedRequest>
  /** Resolves with the time the client hung up on request `index`, or rejects after `withinMs`. */
  disconnected(index: number, withinMs?: number): Promise<number>
  close(): Promise<void>
}

export const DEFAULT_CHUNKS = ['Hello', ' from', ' the', ' fake', ' model', '.']

/** OpenAI's error body. */
export const openaiError = (message: string, type: string, code: string | null = null, param: string | null = null) =>
  ({ error: { message, type, param, code } })

/** The shapes real upstreams answer with; `{key}` is replaced by the request's key when echoKey is set. */
export const ERROR_SCENARIOS = {
  unknownModel: { status: 404, body: openaiError('The model `nope` does not exist or you do not have access to it. Key {key}', 'invalid_request_error', 'model_not_found') },
  badRequest: { status: 400, body: openaiError("Invalid value for 'messages': {key}", 'invalid_request_error', 'invalid_value', 'messages') },
  unauthorized: { status: 401, body: openaiError('Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key') },
  forbidden: { status: 403, body: openaiError('Project does not have access to model. Key {key}', 'invalid_request_error', 'model_not_found') },
  rateLimited: { status: 429, body: openaiError('Rate limit reached for gpt-4o-mini on tokens per min (TPM). Key {key}', 'tokens', 'rate_limit_exceeded'), headers: { 'retry-after': '7' } },
  rateLimitedMs: { status: 429, body: openaiError('Rate limit reached. Key {key}', 'requests', 'rate_limit_exceeded'), headers: { 'retry-after-ms': '1500', 'retry-after': '2' } },
  serverError: { status: 500, body: openaiError('The server had an error while processing your request. Key {key}', 'server_error') },
  overloaded: { status: 503, body: 'Service Unavailable: upstream overloaded, key {key}' },
  unprocessable: { status: 422, body: { detail: [{ loc: ['body', 'messages'], msg: 'field required {key}', type: 'value_error.missing' }] } },
  refusesMaxTokens: { status: 400, body: openaiError("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'invalid_request_error', 'unsupported_parameter', 'max_tokens') },
} satisfies Record<string, Scenario['error']>

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function startOpenAIServer(initial: Scenario = {}): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = []
  const queue: Scenario[] = []
  let fallback = initial
  const closeWaiters = new Map<number, () => void>()
  const arrivalWaiters = new Map<number, () => void>()

  const server = createServer(async (req, res) => {
    const raw = await readBody(req)
    let body: any = raw
    try { body = JSON.parse(raw) } catch { /* recorded as text */ }
    const index = requests.length
    const record: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, receivedAt: Date.now() }
    requests.push(record)
    arrivalWaiters.get(index)?.()
    res.on('close', () => {
      if (record.finishedAt === undefined) {
        record.disconnectedAt = Date.now()
        closeWaiters.get(index)?.()
      }
    })
    const scenario = queue.shift() ?? fallback
    const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '')
    const gone = () => res.destroyed || record.disconnectedAt !== undefined
    const finish = () => { record.finishedAt = Date.now(); res.end() }

    if (scenario.headersDelayMs) await sleep(scenario.headersDelayMs)
    if (gone()) return
    if (req.method !== 'POST') return sendJSON(res, 405, openaiError(`Method ${req.method} not allowed`, 'invalid_request_error'), finish)
    if (scenario.error) {
      const { status, body: errBody, headers = {} } = scenario.error
      const text = (typeof errBody === 'string' ? errBody : JSON.stringify(errBody)).replaceAll('{key}', scenario.echoKey ? key : '[masked]')
      res.writeHead(status, { 'content-type': typeof errBody === 'string' ? 'text/plain' : 'application/json', ...headers })
      res.write(text)
      return finish()
    }
    if (req.url === '/v1/embeddings') return embeddings(res, body, scenario, finish)
    if (req.url !== '/v1/chat/completions') return sendJSON(res, 404, openaiError(`Invalid URL (POST ${req.url})`, 'invalid_request_error'), finish)

    const model = scenario.model ?? body.model
    const chunks = scenario.chunks ?? DEFAULT_CHUNKS
    const usage = scenario.usage === false ? undefined : scenario.usage ?? { prompt_tokens: 11, completion_tokens: chunks.length }
    const id = `chatcmpl-${randomUUID().replaceAll('-', '').slice(0, 24)}`
    const created = Math.floor(Date.now() / 1000)
    const wantsUsage = body.stream_options?.include_usage === true
    if (scenario.noStream || body.stream !== true) {
      return sendJSON(res, 200, {
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: chunks.join('') }, finish_reason: scenario.finishReason ?? 'stop' }],
        ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
      }, finish)
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    // Headers go out now, as a real upstream's do, not with the first chunk.
    res.flushHeaders()
    // Resolves once the bytes are handed to the socket, so a destroy right after cannot eat them.
    const write = (text: string) => new Promise<void>((resolve) => { res.write(text, () => resolve()) })
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) => write(`data: ${JSON.stringify({
      id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices,
      ...(wantsUsage ? { usage: null } : {}), ...extra,
    })}\n\n`)
    if (scenario.firstChunkDelayMs) await sleep(scenario.firstChunkDelayMs)
    if (gone()) return
    await send([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])
    for (let i = 0; i < chunks.length; i++) {
      if (scenario.errorAfter === i) {
        await write(`data: ${JSON.stringify(openaiError(`The server had an error while processing your request. ${scenario.echoKey ? key : ''}`, 'server_error'))}\n\n`)
        return finish()
      }
      if (scenario.endAfter === i) return finish()
      if (scenario.destroyAfter === i) {
        record.finishedAt = Date.now()
        return void res.socket?.destroy()
      }
      if (i > 0 && scenario.chunkDelayMs) await sleep(scenario.chunkDelayMs)
      if (gone()) return
      await send([{ index: 0, delta: { content: chunks[i] }, logprobs: null, finish_reason: null }])
    }
    if (scenario.rawAfter) await write(`${scenario.rawAfter}\n\n`)
    if (scenario.chunkDelayMs) await sleep(scenario.chunkDelayMs)
    if (gone()) return
    await send([{ index: 0, delta: {}, logprobs: null, finish_reason: scenario.finishReason ?? 'stop' }])
    if (wantsUsage && usage) await send([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })
    if (!scenario.omitDone) await write('data: [DONE]\n\n')
    finish()
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    next: (...scenarios) => { queue.push(...scenarios) },
    setDefault: (scenario) => { fallback = scenario },
    received: (index, withinMs = SAFETY_NET_MS) => new Promise((resolve, reject) => {
      const check = () => {
        const record = requests[index]
        if (record === undefined) return false
        clearTimeout(timer)
        arrivalWaiters.delete(index)
        resolve(record)
        return true
      }
      const timer = setTimeout(() => { arrivalWaiters.delete(index); reject(new Error(`request ${index} did not arrive within ${withinMs} ms`)) }, withinMs)
      if (!check()) arrivalWaiters.set(index, check)
    }),
    disconnected: (index, withinMs = SAFETY_NET_MS) => new Promise((resolve, reject) => {
      const check = () => {
        const at = requests[index]?.disconnectedAt
        if (at === undefined) return false
        clearTimeout(timer)
        closeWaiters.delete(index)
        resolve(at)
        return true
      }
      const timer = setTimeout(() => { closeWaiters.delete(index); reject(new Error(`client did not disconnect request ${index} within ${withinMs} ms`)) }, withinMs)
      if (!check()) closeWaiters.set(index, check)
    }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

function embeddings(res: ServerResponse, body: any, scenario: Scenario, finish: () => void) {
  const inputs: string[] = typeof body.input === 'string' ? [body.input] : body.input
  const dimension = body.dimensions ?? scenario.embeddingDimension ?? 8
  // Deterministic and distinct per input: index i's vector starts with i + 1.
  const data = inputs.map((text, index) => ({
    object: 'embedding', index,
    embedding: Array.from({ length: dimension }, (_, d) => (d === 0 ? index + 1 : (text.length % 7) / 10 + d / 1000)),
  }))
  if (scenario.reverseEmbeddings) data.reverse()
  const promptTokens = inputs.reduce((n, s) => n + s.split(/\s+/).filter(Boolean).length, 0)
  sendJSON(res, 200, {
    object: 'list', data, model: scenario.model ?? body.model,
    ...(scenario.usage === false ? {} : { usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }),
  }, finish)
}

function sendJSON(res: ServerResponse, status: number, body: unknown, finish: () => void) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.write(JSON.stringify(body))
  finish()
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', (d) => { data += d })
    req.on('end', () => resolve(data))
    req.on('error', reject)
  })
}
