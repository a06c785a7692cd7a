import { ATTR } from '../../shared/telemetry/attributes.ts'
import { extractContext, recordError } from '../../shared/telemetry/spans.ts'
import { admit, authenticate, errorText, openGate, type Gate } from '../gate.ts'
import { createEmbedContext, type EmbedContext, type EmbedDeps } from './context.ts'
import { embedOrRefuse } from './embed-call.ts'
import { saveEmbeddings } from './save.ts'
import { readEmbedInput, toEmbedTexts } from './texts.ts'

// The embed function's parts: context.ts (what they share), texts.ts (the body, and what to
// embed), embed-call.ts (the provider), save.ts (the one transaction).
export { MAX_METADATA_BYTES, TOTAL_CHARS_FACTOR, toEmbedLimits, type EmbedDeps } from './context.ts'

export const EMBED_ROUTE = '/functions/v1/embed'

/** POST /functions/v1/embed: authenticates, chunks, embeds in batches, stores every row in one transaction. */
export function createEmbedHandler(deps: EmbedDeps): (req: Request) => Promise<Response> {
  const ctx = createEmbedContext(deps)
  return async function handleEmbed(req: Request): Promise<Response> {
    const gate = openGate({
      tracer: ctx.tracer, logger: ctx.logger, fn: 'embed', route: EMBED_ROUTE, req, parent: extractContext(req.headers), owners: ctx.owners, ended: ctx.flushLater,
    })
    try {
      return await embedRequest(ctx, gate, req)
    } catch (err) {
      recordError(gate.root, err, 'internal_error')
      ctx.logger.error('embed failed unexpectedly', { error: errorText(err) }, gate.root)
      return gate.reject('internal_error', 'internal error')
    }
  }
}

async function embedRequest(ctx: EmbedContext, gate: Gate, req: Request): Promise<Response> {
  const { logger, limiter } = ctx
  if (req.method !== 'POST') return gate.reject('method_not_allowed', 'use POST', { allow: 'POST' })
  const userId = await authenticate(gate, ctx.tracer, ctx.verify, req)
  if (userId instanceof Response) return userId
  // Read once the caller is known: only then is it decided whose trace the request is in.
  const { root, traceId } = gate
  const input = await readEmbedInput(ctx, gate, req)
  if (input instanceof Response) return input
  root.setAttribute(ATTR.requestModel, ctx.model)
  const what = await toEmbedTexts(ctx, gate, input, userId)
  if (what instanceof Response) return what
  const { texts, message } = what
  root.setAttributes({ [ATTR.embedInputs]: input.kind === 'message' ? 1 : input.inputs.length, [ATTR.embedChunks]: texts.length })

  // Counted before the provider is called, with an estimate (~4 characters a token)
  // that settle() replaces by the provider's figure once it is known.
  const estimate = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4)
  const decision = await admit(gate, ctx, userId, estimate)
  if (decision instanceof Response) return decision
  const settle = async (tokens: number) => {
    await limiter.settle(userId, decision.windowStart, tokens - estimate).catch((err) => {
      logger.warn('could not settle the rate limit', { error: errorText(err) }, root)
    })
  }
  const embedded = await embedOrRefuse(ctx, gate, req, texts, { settle, clientGone: () => clientGone(ctx, gate) })
  if (embedded instanceof Response) return embedded
  await settle(embedded.usage.input_tokens)
  root.setAttributes({
    [ATTR.inputTokens]: embedded.usage.input_tokens,
    [ATTR.embedBatches]: embedded.batches,
    ...(embedded.usage.estimated ? { [ATTR.usageEstimated]: true } : {}),
  })
  // Nobody would learn the ids of a document stored now; the client retries instead.
  if (req.signal.aborted) return clientGone(ctx, gate)

  const documentId = input.kind === 'document' ? input.document_id ?? crypto.randomUUID() : null
  let ids: string[]
  try {
    ids = await saveEmbeddings(ctx, root, {
      userId, traceId, message, documentId, metadata: input.kind === 'document' ? input.metadata : {}, texts, vectors: embedded.vectors,
    })
  } catch (err) {
    logger.error('could not store the embeddings', { error: errorText(err) }, root)
    return gate.reject('database_unavailable', 'could not store the embeddings; nothing was stored, retry', { 'retry-after': '1' })
  }
  root.setAttribute(ATTR.httpStatus, 200)
  logger.info('embeddings stored', { rows: ids.length, batches: embedded.batches, input_tokens: embedded.usage.input_tokens }, root)
  root.end()
  ctx.flushLater()
  const { model, dimension } = ctx
  return Response.json({
    trace_id: traceId, document_id: documentId, ...(message ? { message_id: message.id } : {}), ids, model, dimension, usage: embedded.usage,
  }, { headers: gate.headers })
}

function clientGone(ctx: Pick<EmbedContext, 'logger' | 'flushLater'>, gate: Gate): Response {
  gate.root.setAttributes({ [ATTR.errorType]: 'client_abort', [ATTR.httpStatus]: 499 })
  ctx.logger.info('embed client went away; nothing stored', {}, gate.root)
  gate.root.end()
  ctx.flushLater()
  // Nginx's "client closed request": nobody reads it, the span and logs say it.
  return new Response(null, { status: 499, headers: gate.headers })
}
