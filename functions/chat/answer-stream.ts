import type { Span } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { inSpan } from '../../shared/telemetry/spans.ts'
import { errorText, type Gate } from '../gate.ts'
import { MESSAGES_DB, type ChatContext, type Transport } from './context.ts'
import { createFrameLog, type FrameLog } from './frame-log.ts'
import type { Question } from './question.ts'
import { retryStore } from './retry-store.ts'
import { toSseBody } from './sse-body.ts'
import { startAnswerRun, type Answer, type RunSummary } from './stream.ts'
import { answerAsJson } from './transport-http.ts'

export interface NewStream extends Question {
  userId: string
  streamId: string
  transport: Transport
  startedAt: number
  idempotencyKey: string | null
  windowStart: Date
  signal: AbortSignal
}

/** The answer to a stored question: generated, logged for resumes, stored, and its bookkeeping done. */
export function startStream(ctx: ChatContext, gate: Gate, s: NewStream): Response | Promise<Response> {
  const { config, tracer, logger } = ctx
  const { root, traceId } = gate
  root.setAttributes({ [ATTR.httpStatus]: 200, [ATTR.streamId]: s.streamId })
  const headers = { ...gate.headers, 'x-stream-id': s.streamId }
  const slot = s.transport === 'sse' ? ctx.buffer.register(s.streamId, { userId: s.userId, traceId, idempotencyKey: s.idempotencyKey ?? undefined }) : undefined
  let bookkeeping!: (work: Promise<unknown>) => void
  // Supabase keeps the isolate alive until the stream ended (read to its end when its reader
  // left) and its bookkeeping (frame log, rate-limit settle, broadcast, telemetry) is done.
  ctx.later(new Promise((resolve) => { bookkeeping = resolve }))
  const run = startAnswerRun({
    tracer, logger, provider: ctx.provider, root, traceId, streamId: s.streamId, startedAt: s.startedAt, model: s.model,
    maxTokens: s.max_tokens, messages: s.prompt, estimatedInputTokens: s.estimated, frames: s.transport === 'sse', retention: slot,
    log: frameLogOf(ctx, s.streamId, root),
    graceMs: config.resumeGraceSeconds * 1000, captureContent: config.captureContent,
    save: (answer) => saveAnswer(ctx, root, s, traceId, answer),
    onEnd(summary: RunSummary) {
      slot?.ended()
      bookkeeping(settleStream(ctx, root, s, summary))
    },
  })
  slot?.hold(run)
  if (s.transport === 'http') return answerAsJson(run, s.signal, headers)
  return new Response(toSseBody(run, { fromSeq: 0, heartbeatMs: ctx.heartbeatMs }), { headers: { ...ctx.streamHeaders, ...headers } })
}

/** Where the stream's frames go for resumes on other isolates (none without a frame log); its end is retried. */
function frameLogOf(ctx: Pick<ChatContext, 'config' | 'logger' | 'log'>, streamId: string, root: Span): FrameLog | undefined {
  const { log, config } = ctx
  return log && createFrameLog({
    write: (b) => b.end ? retryStore(() => log.write(streamId, b), { withinMs: config.storeRetrySeconds * 1000 }) : log.write(streamId, b),
    flushMs: config.resumeLog.flushMs, maxFrames: config.resumeLog.maxFrames, beatMs: config.resumeLog.beatSeconds * 1000,
    onError: (err) => ctx.logger.warn('could not write the stream’s frame log', { error: errorText(err) }, root),
  })
}

/** Stores the answer under the stream's id; each attempt is its own span, and the stream holds chat.done until one went through. */
function saveAnswer(ctx: Pick<ChatContext, 'config' | 'tracer' | 'logger' | 'messages'>, root: Span, s: NewStream, traceId: string, answer: Answer): Promise<string> {
  return retryStore(() => inSpan(ctx.tracer, root, 'insert messages', MESSAGES_DB, () => ctx.messages.insertAnswer({
    id: s.streamId, session_id: s.session_id, user_id: s.userId, role: 'assistant', ...answer, model: s.model, trace_id: traceId,
  })), {
    withinMs: ctx.config.storeRetrySeconds * 1000,
    onRetry: (err, attempt, delayMs) => ctx.logger.warn('could not store the answer; retrying', { attempt, delay_ms: delayMs, error: errorText(err) }, root),
  })
}

/** After the stream ended: its frame log's end, the rate limit settled to what it cost, `chat.done` announced. */
function settleStream(ctx: Pick<ChatContext, 'logger' | 'limiter' | 'broadcast'>, root: Span, s: NewStream, summary: RunSummary): Promise<unknown> {
  return Promise.allSettled([
    summary.logged,
    ctx.limiter.settle(s.userId, s.windowStart, summary.tokensUsed - s.estimated).catch((err) =>
      ctx.logger.warn('could not settle the rate limit', { error: errorText(err) }, root)),
    summary.outcome.kind === 'done' && ctx.broadcast ? ctx.broadcast(s.session_id, summary.outcome.done, root, s.userId) : undefined,
  ])
}
