import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { createEmbedHandler } from '../../functions/embed/handler.ts'
import type { EmbeddingProvider } from '../../functions/providers/embeddings.ts'
import { createLocalEmbeddingProvider } from '../../functions/providers/local-embedder.ts'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { readConfig, type Env } from '../../shared/config.ts'
import { createTelemetry } from '../../shared/telemetry/telemetry.ts'
import { TEST_SECRET } from '../support/chat-fixture.ts'

/** An embed handler on a real database, the local embedder unless told otherwise, spans captured in memory too. */
export function createEmbedFixture(sql: Sql, env: Env = {}, provider?: EmbeddingProvider) {
  const config = readConfig({
    JWT_SECRET: TEST_SECRET, EMBED_DIMENSION: '16', LOG_LEVEL: 'debug', RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', ...env,
  })
  const memory = new InMemorySpanExporter()
  const logs: string[] = []
  const telemetry = createTelemetry({
    serviceName: 'test', sql, exporters: [memory], logLevel: 'debug', writeLog: (l) => logs.push(l),
    pipeline: { flushIntervalMs: 10 },
  })
  const handler = createEmbedHandler({ config, sql, telemetry, provider: provider ?? createLocalEmbeddingProvider() })
  return {
    config, telemetry, memory, logs, handler,
    token: (sub: string, ttl?: number) => signUserToken(TEST_SECRET, sub, ttl),
    async request(body: unknown, init: { token?: string; headers?: Record<string, string>; method?: string } = {}) {
      return handler(new Request('http://local/functions/v1/embed', {
        method: init.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          ...init.headers,
        },
        body: init.method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }))
    },
    /** Spans of one trace from the in-memory exporter, after a flush. */
    async spans(traceId: string) {
      await telemetry.flush()
      return memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
    },
  }
}

/** A provider that records each call and embeds like the local one, or fails on the call you choose. */
export function createRecordingProvider(fail?: (call: number) => Error | undefined): EmbeddingProvider & { calls: string[][] } {
  const local = createLocalEmbeddingProvider()
  const calls: string[][] = []
  return {
    name: 'recording',
    address: 'embeddings.test',
    calls,
    async embed(request) {
      calls.push(request.inputs)
      const err = fail?.(calls.length)
      if (err) throw err
      return local.embed(request)
    },
  }
}
