import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { createChatHandler, type ChatDeps } from '../../functions/chat/handler.ts'
import { createResumeBuffer } from '../../functions/chat/resume-buffer.ts'
import { createChatProvider } from '../../functions/providers/select.ts'
import type { ChatProvider, ProviderEvent } from '../../functions/providers/types.ts'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { readConfig, type Env } from '../../shared/config.ts'
import { createTelemetry } from '../../shared/telemetry/telemetry.ts'

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters'

/**
 * A chat handler on a real database with in-memory span capture and the provider LLM_PROVIDER
 * names (a fast simulated one by default).
 */
export function createChatFixture(sql: Sql, env: Env = {}, provider?: ChatProvider, deps: Partial<ChatDeps> = {}) {
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
  const resumeBuffer = createResumeBuffer({
    retentionMs: config.resumeRetentionSeconds * 1000, maxStreams: config.resumeMaxStreams,
    maxBytes: config.resumeMaxBytes, maxStreamBytes: config.resumeMaxStreamBytes,
  })
  const handler = createChatHandler({ config, sql, telemetry, resumeBuffer, provider: provider ?? createChatProvider(config), ...deps })
  return {
    config, telemetry, memory, logs, handler, resumeBuffer,
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

/**
 * A provider the test drives by hand: `delta`/`done`/`fail` queue what the stream yields
 * next; the stream waits (abortably) while nothing is queued. Counts calls, aborts and
 * events actually pulled, so tests can see that nothing was read ahead of the client.
 */
export function createManualProvider(name = 'manual') {
  const queue: (ProviderEvent | Error)[] = []
  const stats = { calls: 0, aborted: 0, pulled: 0 }
  let wake: (() => void) | undefined
  const push = (e: ProviderEvent | Error) => { queue.push(e); wake?.() }
  const provider: ChatProvider = {
    name,
    async *stream(req) {
      stats.calls++
      req.signal.addEventListener('abort', () => { stats.aborted++; wake?.() }, { once: true })
      for (;;) {
        while (!queue.length && !req.signal.aborted) await new Promise<void>((r) => { wake = r })
        if (req.signal.aborted) return
        const e = queue.shift()!
        stats.pulled++
        if (e instanceof Error) throw e
        yield e
        if (e.type === 'done') return
      }
    },
  }
  return {
    provider,
    stats,
    delta: (...texts: string[]) => { for (const text of texts) push({ type: 'delta', text }) },
    done: (usage = { input_tokens: 7, output_tokens: 3, estimated: false }) => push({ type: 'done', finish_reason: 'stop', usage, response_model: 'manual-1' }),
    fail: (err: Error) => push(err),
    queued: () => queue.length,
  }
}

/** Reads one SSE block (up to a blank line) from a reader, keeping what follows for the next call. */
export function createBlockReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  return {
    reader,
    async next(): Promise<string | undefined> {
      for (;;) {
        const end = buffered.indexOf('\n\n')
        if (end >= 0) {
          const block = buffered.slice(0, end + 2)
          buffered = buffered.slice(end + 2)
          return block
        }
        const { done, value } = await reader.read()
        if (done) return buffered || undefined
        buffered += decoder.decode(value, { stream: true })
      }
    },
    cancel: () => reader.cancel(),
  }
}
