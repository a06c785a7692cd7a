import type { Sql } from 'postgres'
import type { Config } from '../shared/config.ts'
import { createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'
import { createChatHandler } from './chat/handler.ts'
import { withCors } from './cors.ts'
import { createEmbedHandler } from './embed/handler.ts'
import { createChatProvider, createEmbeddingProvider, type ProviderOptions } from './providers/select.ts'
import { createFunctionsRouter, type Handler } from './router.ts'

export interface RuntimeHooks {
  /** EdgeRuntime.waitUntil on Supabase; absent on Node, where the process outlives the response. */
  waitUntil?: (work: Promise<unknown>) => void
  /** The fetch the OpenAI-compatible providers use (the runtime's own by default). */
  fetch?: ProviderOptions['fetch']
}

export interface Functions {
  config: Config
  telemetry: Telemetry
  chat: Handler
  embed: Handler
  /** Routes /functions/v1/<name> like Supabase's gateway (the local server mounts this). */
  fetch: Handler
}

/** Builds every function from its config (shared/config.ts): what the Deno entries and the Node server share. */
export function createFunctions(sql: Sql, config: Config, hooks: RuntimeHooks = {}): Functions {
  const telemetry = createTelemetry({
    serviceName: 'streamscope-functions', sql, logLevel: config.logLevel, consoleLevel: config.consoleLevel,
    otlpEndpoint: config.otlp.endpoint || undefined, otlpHeaders: config.otlp.headers || undefined,
    lostAfterMs: config.telemetryLostAfterSeconds * 1000, waitUntil: hooks.waitUntil,
  })
  const providerOptions = { fetch: hooks.fetch }
  const chat = withCors(createChatHandler({
    config, sql, telemetry, waitUntil: hooks.waitUntil,
    provider: createChatProvider(config, providerOptions),
  }), config.corsAllowedOrigins)
  const embed = withCors(createEmbedHandler({
    config, sql, telemetry, waitUntil: hooks.waitUntil,
    provider: createEmbeddingProvider(config, providerOptions),
  }), config.corsAllowedOrigins)
  return { config, telemetry, chat, embed, fetch: createFunctionsRouter({ chat, embed }) }
}
