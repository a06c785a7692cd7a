import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readConfig } from '../../shared/config.ts'
import { startOpenAIServer, type OpenAIServer } from '../../tests/support/openai-server.ts'
import { createChatProvider, createEmbeddingProvider } from './select.ts'
import type { ProviderEvent } from './types.ts'

let server: OpenAIServer
beforeAll(async () => { server = await startOpenAIServer() })
afterAll(() => server.close())

const config = (env: Record<string, string>) => readConfig({ JWT_SECRET: 'x'.repeat(32), SIM_TTFB_MS: '0', SIM_TOKENS_PER_SECOND: '100000', ...env })

describe('provider selection', () => {
  it('builds the simulated chat provider and the local embedder by default', () => {
    const c = config({})
    expect(createChatProvider(c).name).toBe('simulated')
    expect(createEmbeddingProvider(c).name).toBe('local')
  })

  it('builds OpenAI-compatible providers from LLM_PROVIDER / EMBED_PROVIDER and OPENAI_BASE_URL', async () => {
    const c = config({ LLM_PROVIDER: 'openai', EMBED_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: 'sk-select-test-key', DEFAULT_MODEL: 'gpt-x', EMBED_DIMENSION: '4' })
    const chat = createChatProvider(c)
    expect(chat).toMatchObject({ name: 'openai', address: new URL(server.baseUrl).host })
    const events: ProviderEvent[] = []
    for await (const e of chat.stream({ model: c.defaultModel, messages: [{ role: 'user', content: 'hi' }], maxTokens: c.maxOutputTokens, signal: new AbortController().signal })) events.push(e)
    expect(events.at(-1)).toMatchObject({ type: 'done', usage: { estimated: false } })

    const embedder = createEmbeddingProvider(c)
    expect(embedder.name).toBe('openai')
    const r = await embedder.embed({ model: c.embed.model, inputs: ['a'], dimension: c.embed.dimension, signal: new AbortController().signal })
    expect(r.vectors[0]).toHaveLength(4)
    expect(server.requests.map((q) => [q.path, q.headers.authorization])).toEqual([
      ['/v1/chat/completions', 'Bearer sk-select-test-key'],
      ['/v1/embeddings', 'Bearer sk-select-test-key'],
    ])
  })

  it('mixes them: simulated chat with OpenAI embeddings', () => {
    const c = config({ EMBED_PROVIDER: 'openai', OPENAI_BASE_URL: server.baseUrl })
    expect(createChatProvider(c).name).toBe('simulated')
    expect(createEmbeddingProvider(c).name).toBe('openai')
  })
})
