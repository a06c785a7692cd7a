import type { Config } from '../../shared/config.ts'
import type { EmbeddingProvider } from './embeddings.ts'
import { createLocalEmbeddingProvider } from './local-embedder.ts'
import { createOpenAIEmbeddingProvider } from './openai-embeddings.ts'
import { createOpenAIProvider } from './openai.ts'
import type { Fetch } from './openai-http.ts'
import { createSimulatedProvider } from './simulated.ts'
import type { ChatProvider } from './types.ts'

export interface ProviderOptions {
  /** The fetch the OpenAI-compatible providers use (tests, or a runtime's own). */
  fetch?: Fetch
}

/** The chat model `config.provider` names (LLM_PROVIDER). */
export function createChatProvider(config: Config, options: ProviderOptions = {}): ChatProvider {
  switch (config.provider) {
    case 'openai': return createOpenAIProvider(config.openai, options)
    case 'simulated': return createSimulatedProvider(config.simulated)
  }
}

/** The embedding model `config.embed.provider` names (EMBED_PROVIDER). */
export function createEmbeddingProvider(config: Config, options: ProviderOptions = {}): EmbeddingProvider {
  switch (config.embed.provider) {
    case 'openai': return createOpenAIEmbeddingProvider(config.openai, options)
    case 'local': return createLocalEmbeddingProvider()
  }
}
