import type { OpenAIConfig } from '../../shared/config.ts'
import { parseSSE } from '../../shared/sse/parse.ts'
import { describe, hostOf, postJSON, redact, toUpstreamError, type Fetch, type Posted } from './openai-http.ts'
import { countMessageTokens, countTokens } from './tokens.ts'
import { ProviderError, type ChatProvider, type ChatRequest, type ProviderEvent, type Usage } from './types.ts'

/** One `chat.completion.chunk` as OpenAI, vLLM, Ollama and Groq send it (only what is read here). */
interface Chunk {
  model?: string
  choices?: { index?: number; delta?: { content?: string | null }; finish_reason?: string | null }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
  /** Groq puts usage here on the last chunk. */
  x_groq?: { usage?: { prompt_tokens?: number; completion_tokens?: number } }
  error?: unknown
}

/**
 * A streaming chat provider for any OpenAI-compatible `/chat/completions` (OpenAI, vLLM, Ollama,
 * Groq, LiteLLM…). Upstream failures become ProviderError with a stable code; an abort of
 * `request.signal` closes the upstream connection and rejects with the signal's reason.
 */
export function createOpenAIProvider(config: OpenAIConfig, options: { fetch?: Fetch } = {}): ChatProvider {
  // `max_tokens` is the one field every compatible server reads (Ollama knows no other), but
  // OpenAI's reasoning models refuse it; once refused, this provider switches for good.
  let limitField: 'max_tokens' | 'max_completion_tokens' = 'max_tokens'
  const post = async (request: ChatRequest): Promise<Posted> => {
    const body = (field: string) => ({
      model: request.model,
      messages: request.messages,
      [field]: request.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    })
    const opts = { signal: request.signal, traceHeaders: request.traceHeaders, fetch: options.fetch }
    // What this request sent, not the shared field: a concurrent request may have switched it.
    const sent = limitField
    try {
      return await postJSON(config, '/chat/completions', body(sent), opts)
    } catch (err) {
      if (sent === 'max_completion_tokens' || !refusesMaxTokens(err)) throw err
      limitField = 'max_completion_tokens'
      return await postJSON(config, '/chat/completions', body(limitField), opts)
    }
  }

  return {
    name: 'openai',
    address: hostOf(config.baseUrl),
    async *stream(request: ChatRequest): AsyncIterable<ProviderEvent> {
      const { res, release } = await post(request)
      try {
        // A server that ignores `stream: true` answers one JSON completion; take it whole.
        if (!res.headers.get('content-type')?.includes('text/event-stream') && res.headers.get('content-type')?.includes('json')) {
          yield* fromCompletion(await res.json() as Completion, request)
          return
        }
        if (!res.body) throw new ProviderError('provider_stream_error', `upstream answered ${res.status} with no body`, res.status)
        yield* fromStream(res.body, request, config.apiKey)
      } finally {
        release()
      }
    },
  }
}

async function* fromStream(body: ReadableStream<Uint8Array>, request: ChatRequest, apiKey: string): AsyncIterable<ProviderEvent> {
  let text = ''
  let model = ''
  let finishReason = ''
  let reported: Usage | undefined
  let sawDone = false
  try {
    for await (const event of parseSSE(body)) {
      if (event.data === '[DONE]') {
        sawDone = true
        break
      }
      let chunk: Chunk
      try {
        chunk = JSON.parse(event.data) as Chunk
      } catch {
        throw new ProviderError('provider_stream_error', `upstream sent a chunk that is not JSON: ${redact(event.data.slice(0, 120), apiKey)}`)
      }
      if (chunk.error !== undefined || event.event === 'error') {
        const e = toUpstreamError(chunk.error ?? chunk)
        throw new ProviderError('provider_stream_error', `upstream error mid-stream: ${redact(e.message || e.code || e.type || 'unknown', apiKey)}`)
      }
      if (chunk.model) model = chunk.model
      const usage = chunk.usage ?? chunk.x_groq?.usage
      if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
        reported = { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens, estimated: false }
      }
      const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0)
      if (!choice) continue
      if (choice.finish_reason) finishReason = choice.finish_reason
      const content = choice.delta?.content
      // The first chunk carries only the role, with content '' (or none): nothing to show.
      if (content) {
        text += content
        yield { type: 'delta', text: content }
      }
    }
  } catch (err) {
    if (request.signal.aborted) throw request.signal.reason
    if (err instanceof ProviderError) throw err
    throw new ProviderError('provider_stream_error', `upstream stream broke after ${text.length} characters: ${redact(describe(err), apiKey)}`)
  }
  if (request.signal.aborted) throw request.signal.reason
  // A clean end after a finish_reason is a server that omits [DONE]; anything else is a cut.
  if (!sawDone && !finishReason) {
    throw new ProviderError('provider_stream_error', `upstream stream ended without [DONE] after ${text.length} characters`)
  }
  yield {
    type: 'done',
    finish_reason: finishReason || 'stop',
    usage: reported ?? estimate(request, text),
    response_model: model || request.model,
  }
}

interface Completion {
  model?: string
  choices?: { message?: { content?: string | null }; finish_reason?: string | null }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number }
}

function* fromCompletion(completion: Completion, request: ChatRequest): Iterable<ProviderEvent> {
  const choice = completion.choices?.[0]
  const text = choice?.message?.content ?? ''
  if (text) yield { type: 'delta', text }
  const u = completion.usage
  yield {
    type: 'done',
    finish_reason: choice?.finish_reason || 'stop',
    usage: typeof u?.prompt_tokens === 'number' && typeof u.completion_tokens === 'number'
      ? { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, estimated: false }
      : estimate(request, text),
    response_model: completion.model || request.model,
  }
}

const estimate = (request: ChatRequest, text: string): Usage => ({
  input_tokens: countMessageTokens(request.messages),
  output_tokens: countTokens(text),
  estimated: true,
})

/** OpenAI's answer for reasoning models: 400 unsupported_parameter, param max_tokens. */
function refusesMaxTokens(err: unknown): boolean {
  if (!(err instanceof ProviderError) || err.code !== 'provider_bad_request') return false
  return /max_tokens/.test(err.message) && /max_completion_tokens/.test(err.message)
}

