import { inSpan } from '../../shared/telemetry/spans.ts'
import { admit, errorText, type Gate } from '../gate.ts'
import { startStream } from './answer-stream.ts'
import { MESSAGES_DB, type ChatContext, type Transport } from './context.ts'
import { readQuestion, type Question } from './question.ts'
import { answerRepeat } from './repeat.ts'

const IDEMPOTENCY_KEY = /^[\w.:-]{1,128}$/

/** A new question: checked, admitted, stored once; then its answer streams (or a repeat gets the first one's). */
export async function askModel(ctx: ChatContext, gate: Gate, req: Request, userId: string, transport: Transport, startedAt: number): Promise<Response> {
  const idempotencyKey = req.headers.get('idempotency-key')
  if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return gate.reject('invalid_request', 'Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 _ . : -')
  }
  const q = await readQuestion(ctx, gate, req, userId)
  if (q instanceof Response) return q
  const tpm = ctx.config.rateLimit.tokensPerMinute
  if (tpm > 0 && q.estimated > tpm) return gate.reject('content_too_large', `this request needs about ${q.estimated} tokens; the limit is ${tpm} per minute`)
  const decision = await admit(gate, ctx, userId, q.estimated)
  if (decision instanceof Response) return decision
  // The stream's id is the server's own, never the caller's trace: a trace may hold many
  // chats (one caller, one traceparent), and each answer is stored and resumed by this id.
  const streamId = crypto.randomUUID()
  let stored: string | undefined
  try {
    stored = await storeQuestion(ctx, gate, q, userId, streamId, idempotencyKey)
  } catch (err) {
    ctx.logger.error('could not store the user message', { error: errorText(err) }, gate.root)
    return gate.reject('database_unavailable', 'could not store the message; nothing was sent to the model', { 'retry-after': '1' })
  }
  if (stored !== undefined) return startStream(ctx, gate, { ...q, userId, streamId, transport, startedAt, idempotencyKey, windowStart: decision.windowStart, signal: req.signal })
  // A repeat of a request that did arrive: the tokens counted for it are given back,
  // and the caller gets the first request's stream from its start.
  void ctx.limiter.settle(userId, decision.windowStart, -q.estimated).catch(() => {})
  return answerRepeat(ctx, gate, req, userId, idempotencyKey!, transport)
}

/**
 * The user's message, stored with its stream row (when there is a frame log) in an `insert
 * messages` span; undefined when this Idempotency-Key was stored before.
 */
function storeQuestion(
  ctx: Pick<ChatContext, 'tracer' | 'messages' | 'log'>, gate: Gate, q: Question, userId: string, streamId: string, idempotencyKey: string | null,
): Promise<string | undefined> {
  const { traceId, root } = gate
  return inSpan(ctx.tracer, root, 'insert messages', MESSAGES_DB, () => ctx.messages.insertOnce({
    session_id: q.session_id, user_id: userId, role: 'user', content: q.content, status: 'complete', model: null,
    finish_reason: null, input_tokens: null, output_tokens: null, trace_id: traceId, idempotency_key: idempotencyKey,
  }, ctx.log && { stream_id: streamId, trace_id: traceId, span_id: root.spanContext().spanId, model: q.model }))
}
