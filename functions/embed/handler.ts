import type { Sql } from 'postgres'
import { createJwtVerifier } from '../../shared/auth/jwt.ts'
import type { Config } from '../../shared/config.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { extractContext, inSpan, recordError } from '../../shared/telemetry/spans.ts'
import type { Telemetry } from '../../shared/telemetry/telemetry.ts'
import type { EmbeddingProvider } from '../providers/embeddings.ts'
import { ProviderError } from '../providers/types.ts'
// The same body reader and per-user limits as chat: one budget per user across both functions.
import { readJsonBody } from '../body.ts'
import { createRateLimiter } from '../rate-limit.ts'
import { admit, authenticate, errorText, openGate } from '../gate.ts'
import { createTraceOwners } from '../trace-owners.ts'
import { embedInBatches, toBatches, type Embedded } from './batches.ts'
import { CHUNK_CHARS, chunkText } from './chunk.ts'
import { createEmbeddingStore } from './store.ts'
import { validateEmbedInput, type EmbedLimits } from './validate.ts'

export interface EmbedDeps {
  config: Config
  sql: Sql
  telemetry: Telemetry
  provider: EmbeddingProvider
  /** Supabase's EdgeRuntime.waitUntil: keeps the isolate alive until telemetry is written. */
  waitUntil?: (work: Promise<unknown>) => void
}

export const EMBED_ROUTE = '/functions/v1/embed'

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

const DB = { [ATTR.dbSystem]: 'postgresql' }

/** POST /functions/v1/embed: authenticates, chunks, embeds in batches, stores every row in one transaction. */
export function createEmbedHandler(deps: EmbedDeps): (req: Request) => Promise<Response> {
  const { config, telemetry, provider } = deps
  const { tracer, logger } = telemetry
  const verify = createJwtVerifier(config)
  const store = createEmbeddingStore(deps.sql)
  const limiter = createRateLimiter(deps.sql, config.rateLimit)
  const owners = createTraceOwners(deps.sql)
  const limits = toEmbedLimits(config)
  // JSON may spell one character as six bytes (\uXXXX); metadata and syntax get the slack.
  const maxBodyBytes = limits.maxTotalChars * 6 + 2 * MAX_METADATA_BYTES + 65_536
  const chunkChars = Math.max(2, Math.min(CHUNK_CHARS, config.embed.maxInputChars))
  const { model, dimension, batchSize } = config.embed

  const flushLater = () => deps.waitUntil?.(telemetry.flush().catch(() => {}))

  return async function handleEmbed(req: Request): Promise<Response> {
    const gate = openGate({ tracer, logger, fn: 'embed', route: EMBED_ROUTE, req, parent: extractContext(req.headers), owners, ended: flushLater })
    const { reject } = gate

    try {
      if (req.method !== 'POST') return reject('method_not_allowed', 'use POST', { allow: 'POST' })

      const userId = await authenticate(gate, tracer, verify, req)
      if (userId instanceof Response) return userId
      // Read once the caller is known: only then is it decided whose trace the request is in.
      const { root, traceId, headers: traceHeaders } = gate

      if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
        return reject('unsupported_media_type', 'content-type must be application/json')
      }
      const body = await readJsonBody(req, maxBodyBytes)
      if (!body.ok) return reject(body.code, body.message)
      const input = validateEmbedInput(body.value, limits)
      if (!input.ok) return reject(input.code, input.message)
      root.setAttribute(ATTR.requestModel, model)

      // What to embed: the caller's message, or the chunks of the caller's texts.
      let texts: string[]
      let message: { id: string; content: string } | undefined
      if (input.value.kind === 'message') {
        const messageId = input.value.message_id
        try {
          message = await inSpan(tracer, root, 'select messages', { ...DB, [ATTR.dbOperation]: 'select', [ATTR.dbCollection]: 'messages' },
            () => store.findMessage(messageId, userId))
        } catch (err) {
          logger.error('could not read the message', { error: errorText(err) }, root)
          return reject('database_unavailable', 'could not read the message; retry', { 'retry-after': '1' })
        }
        // Someone else's message is answered exactly like a missing one.
        if (!message) return reject('not_found', `no message ${messageId}`)
        if (message.content.trim() === '') return reject('invalid_request', 'the message has no text to embed')
        if (message.content.length > config.embed.maxInputChars) {
          return reject('content_too_large', `the message exceeds ${config.embed.maxInputChars} characters`)
        }
        texts = [message.content]
      } else {
        texts = input.value.inputs.flatMap((text) => chunkText(text, chunkChars))
      }
      root.setAttributes({ 'streamscope.embed.inputs': input.value.kind === 'message' ? 1 : input.value.inputs.length, 'streamscope.embed.chunks': texts.length })

      // Counted before the provider is called, with an estimate (~4 characters a token)
      // that settle() replaces by the provider's figure once it is known.
      const estimate = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4)
      const decision = await admit(gate, { tracer, logger, limiter }, userId, estimate)
      if (decision instanceof Response) return decision
      const settle = async (tokens: number) => {
        await limiter.settle(userId, decision.windowStart, tokens - estimate).catch((err) => {
          logger.warn('could not settle the rate limit', { error: errorText(err) }, root)
        })
      }

      let embedded: Embedded
      try {
        embedded = await embedInBatches(texts, { tracer, root, provider, model, dimension, batchSize, signal: req.signal })
      } catch (err) {
        await settle(0) // a failed request is not charged its tokens (it still counts as a request)
        if (req.signal.aborted) return clientGone()
        const code = err instanceof ProviderError ? err.code : 'provider_error'
        logger.error('embedding provider failed', { code, error: errorText(err) }, root)
        if (err instanceof ProviderError && (err.code === 'provider_unavailable' || err.code === 'provider_rate_limited')) {
          return reject('provider_unavailable', `the embedding provider is unavailable: ${errorText(err)}`,
            { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfter ?? 1))) })
        }
        return reject('provider_error', `the embedding provider failed: ${errorText(err)}`)
      }
      await settle(embedded.usage.input_tokens)
      root.setAttributes({
        [ATTR.inputTokens]: embedded.usage.input_tokens,
        'streamscope.embed.batches': embedded.batches,
        ...(embedded.usage.estimated ? { 'streamscope.usage.estimated': true } : {}),
      })
      // Nobody would learn the ids of a document stored now; the client retries instead.
      if (req.signal.aborted) return clientGone()

      const documentId = input.value.kind === 'document' ? input.value.document_id ?? crypto.randomUUID() : null
      let ids: string[]
      try {
        const column = await store.embeddingColumn()
        ids = await store.transaction(async (tx) => {
          if (message) {
            const id = await inSpan(tracer, root, 'insert message_embeddings', { ...DB, [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'message_embeddings' },
              () => store.upsertMessageEmbedding(tx, column, {
                message_id: message!.id, user_id: userId, model, dimension, embedding: embedded.vectors[0], trace_id: traceId,
              }))
            return [id]
          }
          const metadata = input.value.kind === 'document' ? input.value.metadata : {}
          const dbChunks = { ...DB, [ATTR.dbCollection]: 'document_embeddings' }
          await inSpan(tracer, root, 'delete document_embeddings', { ...dbChunks, [ATTR.dbOperation]: 'delete' },
            () => store.replaceDocument(tx, userId, documentId!))
          const rows = texts.map((content, i) => ({ chunk_index: i, content, embedding: embedded.vectors[i] }))
          const out: string[] = []
          for (const batch of toBatches(rows, batchSize)) {
            out.push(...await inSpan(tracer, root, 'insert document_embeddings', { ...dbChunks, [ATTR.dbOperation]: 'insert', 'db.operation.batch.size': batch.length },
              () => store.insertChunks(tx, column, { document_id: documentId!, user_id: userId, metadata, model, dimension, trace_id: traceId }, batch)))
          }
          return out
        })
      } catch (err) {
        logger.error('could not store the embeddings', { error: errorText(err) }, root)
        return reject('database_unavailable', 'could not store the embeddings; nothing was stored, retry', { 'retry-after': '1' })
      }

      root.setAttribute(ATTR.httpStatus, 200)
      logger.info('embeddings stored', { rows: ids.length, batches: embedded.batches, input_tokens: embedded.usage.input_tokens }, root)
      root.end()
      flushLater()
      return Response.json({
        trace_id: traceId,
        document_id: documentId,
        ...(message ? { message_id: message.id } : {}),
        ids,
        model,
        dimension,
        usage: embedded.usage,
      }, { headers: traceHeaders })
    } catch (err) {
      recordError(gate.root, err, 'internal_error')
      logger.error('embed failed unexpectedly', { error: errorText(err) }, gate.root)
      return reject('internal_error', 'internal error')
    }

    function clientGone(): Response {
      gate.root.setAttributes({ [ATTR.errorType]: 'client_abort', [ATTR.httpStatus]: 499 })
      logger.info('embed client went away; nothing stored', {}, gate.root)
      gate.root.end()
      flushLater()
      // Nginx's "client closed request": nobody reads it, the span and logs say it.
      return new Response(null, { status: 499, headers: gate.headers })
    }
  }
}

