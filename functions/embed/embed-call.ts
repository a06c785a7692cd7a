import { ProviderError } from '../providers/types.ts'
import { errorText, type Gate } from '../gate.ts'
import { embedInBatches, type Embedded } from './batches.ts'
import type { EmbedContext } from './context.ts'

/**
 * The texts' vectors from the provider, or the refusal that says why there are none: 503 with
 * Retry-After when the provider is unavailable or limiting, else 502; `clientGone` when the
 * caller left. A failed call is not charged its tokens (it still counts as a request).
 */
export async function embedOrRefuse(
  ctx: Pick<EmbedContext, 'tracer' | 'logger' | 'provider' | 'model' | 'dimension' | 'batchSize'>, gate: Gate, req: Request, texts: string[],
  o: { settle(tokens: number): Promise<void>; clientGone(): Response },
): Promise<Embedded | Response> {
  const { tracer, provider, model, dimension, batchSize } = ctx
  try {
    return await embedInBatches(texts, { tracer, root: gate.root, provider, model, dimension, batchSize, signal: req.signal })
  } catch (err) {
    await o.settle(0)
    if (req.signal.aborted) return o.clientGone()
    const code = err instanceof ProviderError ? err.code : 'provider_error'
    ctx.logger.error('embedding provider failed', { code, error: errorText(err) }, gate.root)
    if (err instanceof ProviderError && (err.code === 'provider_unavailable' || err.code === 'provider_rate_limited')) {
      return gate.reject('provider_unavailable', `the embedding provider is unavailable: ${errorText(err)}`,
        { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfter ?? 1))) })
    }
    return gate.reject('provider_error', `the embedding provider failed: ${errorText(err)}`)
  }
}
