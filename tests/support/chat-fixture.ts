import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { createChatHandler } from '../../functions/chat/handler.ts'
import { createSimulatedProvider } from '../../functions/providers/simulated.ts'
import type { ChatProvider } from '../../functions/providers/types.ts'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { readConfig, type Env } from '../../shared/config.ts'
import { createTelemetry } from '../../shared/telemetry/telemetry.ts'

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters'

/** A chat handler on a real database with a fast simulated provider and in-memory span capture. */
export function createChatFixture(sql: Sql, env: Env = {}, provider?: ChatProvider) {
  const config = readConfig({
    JWT_SECRET: TEST_SECRET, SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '2000',
    SIM_MIN_TOKENS: '5', SIM_MAX_TOKENS: '12', LOG_LEVEL: 'debug', ...env,
  })
  const memory = new InMemorySpanExporter()
  const logs: string[] = []
  const telemetry = createTelemetry({
    serviceName: 'test', sql, exporters: [memory], logLevel: 'debug', writeLog: (l) => logs.push(l),
    pipeline: { flushIntervalMs: 10 },
  })
  const handler = createChatHandler({ config, sql, telemetry, provider: provider ?? createSimulatedProvider(config.simulated) })
  return {
    config, telemetry, memory, logs, handler,
    token: (sub: string, ttl?: number) => signUserToken(TEST_SECRET, sub, ttl),
    async request(body: unknown, init: { token?: string; headers?: Record<string, string>; method?: string } = {}) {
      return handler(new Request('http://local/functions/v1/chat', {
        method: init.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...init.headers,
        },
        body: init.method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }))
    },
  }
}

/** Splits an SSE body the simple way our own frames allow (LF only, one data line). */
export function framesOf(text: string) {
  return text.split('\n\n').filter(Boolean).map((block) => {
    const f: Record<string, string> = {}
    for (const line of block.split('\n')) {
      const i = line.indexOf(': ')
      f[line.slice(0, i)] = line.slice(i + 2)
    }
    return { event: f.event, id: f.id, data: f.data ? JSON.parse(f.data) : undefined, raw: block }
  })
}
