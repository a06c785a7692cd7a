import type { Sql } from 'postgres'
import { createJwtVerifier } from '../../shared/auth/jwt.ts'
import type { Config } from '../../shared/config.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Telemetry } from '../../shared/telemetry/telemetry.ts'
import type { EmbeddingProvider } from '../providers/embeddings.ts'
import { createRateLimiter } from '../rate-limit.ts'
import { createTraceOwners } from '../trace-owners.ts'
import { CHUNK_CHARS } from './chunk.ts'
import { createEmbeddingStore } from './store.ts'
import type { EmbedLimits } from './validate.ts'

export interface EmbedDeps {
  config: Config
  sql: Sql
  telemetry: Telemetry
  provider: EmbeddingProvider
  /** Supabase's EdgeRuntime.waitUntil: keeps the isolate alive until telemetry is written. */
  waitUntil?: (work: Promise<unknown>) => void
}

/**
 * One request's characters across all inputs, as a multiple of the per-input limit:
 * enough for a few whole documents, while bounding the memory, the upstream calls and
 * the transaction one request can cause.
 */
export const TOTAL_CHARS_FACTOR = 8
export const MAX_METADATA_BYTES = 16_384

export function toEmbedLimits(config: Config): EmbedLimits {
  return {
    maxInputs: config.embed.maxInputs,
    maxInputChars: config.embed.maxInputChars,
    maxTotalChars: config.embed.maxInputChars * TOTAL_CHARS_FACTOR,
    maxMetadataBytes: MAX_METADATA_BYTES,
  }
}

/** The span attributes of the embed function's queries. */
export const EMBED_DB = { [ATTR.dbSystem]: 'postgresql' }

/** What every part of the embed handler shares, built once per isolate. */
export function createEmbedContext(deps: EmbedDeps) {
  const { config, telemetry } = deps
  const limits = toEmbedLimits(config)
  const { model, dimension, batchSize } = config.embed
  return {
    ...deps, model, dimension, batchSize, limits,
    tracer: telemetry.tracer,
    logger: telemetry.logger,
    verify: createJwtVerifier(config),
    store: createEmbeddingStore(deps.sql),
    // The same per-user limits as chat: one budget per user across both functions.
    limiter: createRateLimiter(deps.sql, config.rateLimit),
    owners: createTraceOwners(deps.sql),
    // JSON may spell one character as six bytes (\uXXXX); metadata and syntax get the slack.
    maxBodyBytes: limits.maxTotalChars * 6 + 2 * MAX_METADATA_BYTES + 65_536,
    chunkChars: Math.max(2, Math.min(CHUNK_CHARS, config.embed.maxInputChars)),
    flushLater: () => deps.waitUntil?.(telemetry.flush().catch(() => {})),
  }
}

export type EmbedContext = ReturnType<typeof createEmbedContext>
