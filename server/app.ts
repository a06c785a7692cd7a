import type { Sql } from 'postgres'
import { createChatHandler } from '../functions/chat/handler.ts'
import { createSimulatedProvider } from '../functions/providers/simulated.ts'
import { createFunctionsRouter, type Handler } from '../functions/router.ts'
import { readConfig, type Config, type Env } from '../shared/config.ts'
import { createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'

export interface FunctionsApp {
  config: Config
  telemetry: Telemetry
  fetch: Handler
}

/** Node's composition root for the functions: the same handlers the Deno entries build. */
export function createFunctionsApp(sql: Sql, env: Env): FunctionsApp {
  const config = readConfig(env)
  const telemetry = createTelemetry({ serviceName: 'streamscope-functions', sql, logLevel: config.logLevel })
  const chat = createChatHandler({ config, sql, telemetry, provider: createSimulatedProvider(config.simulated) })
  return { config, telemetry, fetch: createFunctionsRouter({ chat }) }
}
