/** A text embedding model. Throws ProviderError (./types.ts) for upstream failures. */
export interface EmbeddingProvider {
  /** gen_ai.provider.name */
  name: string
  /** server.address of the upstream, when there is one. */
  address?: string
  embed(request: EmbeddingRequest): Promise<EmbeddingResult>
}

export interface EmbeddingRequest {
  model: string
  /** One call's worth: callers batch (config.embed.batchSize). */
  inputs: string[]
  /** Requested vector length (the `dimensions` parameter where the model supports it). */
  dimension: number
  signal: AbortSignal
  /** traceparent/tracestate to send upstream. */
  traceHeaders?: Record<string, string>
}

export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: number[][]
  model: string
  usage: { input_tokens: number; estimated: boolean }
}
