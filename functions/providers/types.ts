export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  maxTokens: number
  signal: AbortSignal
  /** traceparent/tracestate to send upstream, so the provider's side joins the trace. */
  traceHeaders?: Record<string, string>
}

export interface Usage {
  input_tokens: number
  output_tokens: number
  /** True when counted locally because the provider did not report usage. */
  estimated: boolean
}

export type ProviderEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; finish_reason: string; usage: Usage; response_model: string }

/** A streaming chat model. Throws ProviderError for upstream failures; stops when `signal` aborts. */
export interface ChatProvider {
  /** gen_ai.provider.name */
  name: string
  /** server.address of the upstream, when there is one. */
  address?: string
  stream(request: ChatRequest): AsyncIterable<ProviderEvent>
}

export class ProviderError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Upstream HTTP status, when there was one. */
    readonly status?: number,
    /** Seconds the upstream asked us to wait (its retry-after), when it said. */
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}
