import type { OpenAIConfig } from '../../shared/config.ts'
import type { EmbeddingProvider, EmbeddingRequest, EmbeddingResult } from './embeddings.ts'
import { hostOf, postJSON, type Fetch, type Posted } from './openai-http.ts'
import { countTokens } from './tokens.ts'
import { ProviderError } from './types.ts'

interface EmbeddingsResponse {
  model?: string
  data?: { index?: number; embedding?: unknown }[]
  usage?: { prompt_tokens?: number }
}

/** `POST {baseUrl}/embeddings` on any OpenAI-compatible server (OpenAI, vLLM, Ollama…). */
export function createOpenAIEmbeddingProvider(config: OpenAIConfig, options: { fetch?: Fetch } = {}): EmbeddingProvider {
  // `dimensions` shortens vectors on models trained for it (text-embedding-3-*); others refuse it
  // (ada-002, most vLLM models). Once refused, it is left out and the length check below decides.
  let sendDimensions = true
  const post = async (request: EmbeddingRequest): Promise<Posted> => {
    const body = (withDimensions: boolean) => ({
      model: request.model,
      input: request.inputs,
      ...(withDimensions ? { dimensions: request.dimension } : {}),
      encoding_format: 'float',
    })
    const opts = { signal: request.signal, traceHeaders: request.traceHeaders, fetch: options.fetch }
    const sent = sendDimensions
    try {
      return await postJSON(config, '/embeddings', body(sent), opts)
    } catch (err) {
      if (!sent || !(err instanceof ProviderError) || err.code !== 'provider_bad_request' || !/dimensions/i.test(err.message)) throw err
      sendDimensions = false
      return await postJSON(config, '/embeddings', body(false), opts)
    }
  }

  return {
    name: 'openai',
    address: hostOf(config.baseUrl),
    async embed(request: EmbeddingRequest): Promise<EmbeddingResult> {
      const { res, release } = await post(request)
      let body: EmbeddingsResponse
      try {
        body = await res.json() as EmbeddingsResponse
      } catch {
        if (request.signal.aborted) throw request.signal.reason
        throw new ProviderError('provider_stream_error', 'upstream embeddings answer is not JSON', res.status)
      } finally {
        release()
      }
      return toEmbeddingResult(body, request)
    },
  }
}

/** Vectors back in input order (`data[i].index`, not array order), checked before anything is stored. */
export function toEmbeddingResult(body: EmbeddingsResponse, request: EmbeddingRequest): EmbeddingResult {
  const vectors: number[][] = new Array(request.inputs.length)
  for (const [i, item] of (body.data ?? []).entries()) {
    const index = item.index ?? i
    const v = item.embedding
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
      throw new ProviderError('provider_stream_error', `upstream embedding ${index} is not a float array (base64 or missing)`)
    }
    if (index < 0 || index >= vectors.length || vectors[index]) throw new ProviderError('provider_stream_error', `upstream embedding index ${index} is out of range or repeated`)
    vectors[index] = v as number[]
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!vectors[i]) throw new ProviderError('provider_stream_error', `upstream returned ${body.data?.length ?? 0} embeddings for ${vectors.length} inputs`)
    if (vectors[i].length !== request.dimension) {
      throw new ProviderError('provider_bad_request', `upstream embedding has ${vectors[i].length} dimensions, ${request.dimension} configured (does the model support \`dimensions\`?)`)
    }
  }
  const tokens = body.usage?.prompt_tokens
  return {
    vectors,
    model: body.model || request.model,
    usage: typeof tokens === 'number'
      ? { input_tokens: tokens, estimated: false }
      : { input_tokens: request.inputs.reduce((n, s) => n + countTokens(s), 0), estimated: true },
  }
}
