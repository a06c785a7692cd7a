import { ROOT_CONTEXT } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../shared/telemetry/logger.ts'
import type { EmbeddingProvider } from '../providers/embeddings.ts'
import { ProviderError } from '../providers/types.ts'
import { openGate } from '../gate.ts'
import { embedOrRefuse } from './embed-call.ts'

/** embedOrRefuse against a provider that answers with `embed`; what it settled and whether it called clientGone. */
async function call(embed: EmbeddingProvider['embed'], o: { abort?: boolean } = {}) {
  const memory = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t')
  const logger = createLogger({ write: () => {} })
  const abort = new AbortController()
  const req = new Request('http://local/functions/v1/embed', { method: 'POST', signal: abort.signal })
  const gate = openGate({ tracer, logger, fn: 'embed', route: '/functions/v1/embed', req, parent: ROOT_CONTEXT, ended: () => {} })
  const settled: number[] = []
  let gone = 0
  const ctx = { tracer, logger, provider: { name: 'fake', embed }, model: 'm', dimension: 2, batchSize: 2 }
  const result = await embedOrRefuse(ctx, gate, req, ['a', 'b', 'c'], {
    settle: async (tokens) => { settled.push(tokens); if (o.abort) abort.abort() },
    clientGone: () => { gone++; return new Response(null, { status: 499 }) },
  })
  return { result, settled, gone }
}

const refusal = async (r: unknown) => {
  if (!(r instanceof Response)) throw new Error('not refused')
  return { status: r.status, code: r.status === 499 ? 'client_gone' : (await r.json()).error.code, retryAfter: r.headers.get('retry-after') }
}

describe('embedOrRefuse', () => {
  it('gives every text its vector, batch by batch, and settles nothing itself', async () => {
    const c = await call(async ({ inputs }) => ({ vectors: inputs.map(() => [0.5, 0.5]), model: 'm', usage: { input_tokens: inputs.length, estimated: false } }))
    expect(c.result).toEqual({ vectors: [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], usage: { input_tokens: 3, estimated: false }, batches: 2 })
    expect(c.settled).toEqual([])
  })

  it('answers 503 with the provider\'s Retry-After (rounded up, at least 1) when it is limited or down, charging no tokens', async () => {
    const limited = await call(async () => { throw new ProviderError('provider_rate_limited', 'slow down', 429, 2.2) })
    expect(await refusal(limited.result)).toEqual({ status: 503, code: 'provider_unavailable', retryAfter: '3' })
    expect(limited.settled).toEqual([0])
    const down = await call(async () => { throw new ProviderError('provider_unavailable', 'down', 503) })
    expect(await refusal(down.result)).toEqual({ status: 503, code: 'provider_unavailable', retryAfter: '1' })
  })

  it('answers 502 for any other failure, and nothing but clientGone once the caller left', async () => {
    const broken = await call(async () => { throw new Error('boom') })
    expect(await refusal(broken.result)).toEqual({ status: 502, code: 'provider_error', retryAfter: null })
    const left = await call(async () => { throw new Error('aborted') }, { abort: true })
    expect(left.gone).toBe(1)
    expect((left.result as Response).status).toBe(499)
  })
})
