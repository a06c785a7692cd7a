import { SpanKind, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { injectHeaders, recordError, startChild } from '../../shared/telemetry/spans.ts'
import type { EmbeddingProvider } from '../providers/embeddings.ts'
import { ProviderError } from '../providers/types.ts'

export interface EmbedBatchesOptions {
  tracer: Tracer
  root: Span
  provider: EmbeddingProvider
  model: string
  dimension: number
  batchSize: number
  signal: AbortSignal
}

export interface Embedded {
  /** One vector per text, in text order. */
  vectors: number[][]
  usage: { input_tokens: number; estimated: boolean }
  batches: number
}

export function toBatches<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Embeds texts `batchSize` at a time, one provider call (and one client span) per
 * batch, one after another: a request never has more than one call upstream, so
 * the provider's own rate limit sees this function as one steady client. Every
 * vector is checked before anything is stored: a short, long or non-finite vector
 * is the provider's fault and fails the whole request.
 */
export async function embedInBatches(texts: string[], o: EmbedBatchesOptions): Promise<Embedded> {
  const vectors: number[][] = []
  let inputTokens = 0
  let estimated = false
  const batches = toBatches(texts, o.batchSize)
  for (const batch of batches) {
    const span = startChild(o.tracer, o.root, `embeddings ${o.model}`, {
      [ATTR.operation]: 'embeddings',
      [ATTR.provider]: o.provider.name,
      [ATTR.requestModel]: o.model,
      [ATTR.embeddingDimension]: o.dimension,
      [ATTR.embedBatchInputs]: batch.length,
      ...(o.provider.address ? { [ATTR.serverAddress]: o.provider.address } : {}),
    }, SpanKind.CLIENT)
    try {
      const result = await o.provider.embed({
        model: o.model, inputs: batch, dimension: o.dimension, signal: o.signal, traceHeaders: injectHeaders(span),
      })
      checkVectors(result.vectors, batch.length, o.dimension)
      span.setAttributes({
        [ATTR.responseModel]: result.model,
        [ATTR.inputTokens]: result.usage.input_tokens,
        ...(result.usage.estimated ? { [ATTR.usageEstimated]: true } : {}),
      })
      vectors.push(...result.vectors)
      inputTokens += result.usage.input_tokens
      estimated ||= result.usage.estimated
    } catch (err) {
      recordError(span, err, err instanceof ProviderError ? err.code : o.signal.aborted ? 'client_abort' : 'provider_error')
      throw err
    } finally {
      span.end()
    }
  }
  return { vectors, usage: { input_tokens: inputTokens, estimated }, batches: batches.length }
}

function checkVectors(vectors: number[][], count: number, dimension: number) {
  if (!Array.isArray(vectors) || vectors.length !== count) {
    throw new ProviderError('provider_stream_error', `provider returned ${vectors?.length ?? 0} vectors for ${count} inputs`)
  }
  for (const v of vectors) {
    if (!Array.isArray(v) || v.length !== dimension) {
      throw new ProviderError('provider_stream_error', `provider returned a vector of ${v?.length ?? 0} dimensions, ${dimension} configured`)
    }
    if (!v.every(Number.isFinite)) throw new ProviderError('provider_stream_error', 'provider returned a vector with a non-finite number')
  }
}
