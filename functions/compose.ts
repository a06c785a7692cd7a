import type { Sql } from 'postgres'
import { readConfig, type Config, type Env } from '../shared/config.ts'
import { createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'
import { createChatHandler } from './chat/handler.ts'
import { createSimulatedProvider } from './providers/simulated.ts'
import { createFunctionsRouter, type Handler } from './router.ts'

export interface RuntimeHooks {
  /** EdgeRuntime.waitUntil on Supabase; absent on Node, where the process outlives the response. */
  waitUntil?: (work: Promise<unknown>) => void
}

export interface Functions {
  config: Config
  telemetry: Telemetry
  chat: Handler
  /** Routes /functions/v1/<name> like Supabase's gateway (the local server mounts this). */
  fetch: Handler
}

/** Builds every function from the environment: what the Deno entries and the Node server share. */
export function createFunctions(sql: Sql, env: Env, hooks: RuntimeHooks = {}): Functions {
  const config = readConfig(env)
  const telemetry = createTelemetry({ serviceName: 'streamscope-functions', sql, logLevel: config.logLevel, consoleLevel: config.consoleLevel })
  const chat = createChatHandler({
    config, sql, telemetry, waitUntil: hooks.waitUntil,
    provider: createSimulatedProvider(config.simulated),
  })
  return { config, telemetry, chat, fetch: createFunctionsRouter({ chat }) }
}
