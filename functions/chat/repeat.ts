import { ATTR } from '../../shared/telemetry/attributes.ts'
import { errorText, type Gate } from '../gate.ts'
import type { ChatContext, Transport } from './context.ts'
import { followOptions, replay } from './replay.ts'
import { toSource } from './resume.ts'
import type { StreamSource } from './source.ts'
import { answerAsJson } from './transport-http.ts'

/** The stream a user's earlier request with this Idempotency-Key started: held here, or from the frame log. */
async function findFirst(ctx: ChatContext, gate: Gate, userId: string, key: string): Promise<StreamSource | undefined> {
  const held = ctx.buffer.byIdempotencyKey(userId, key)?.run
  if (held || !ctx.log) return held
  const row = await ctx.log.byIdempotencyKey(userId, key)
  return row ? toSource({ row, userId }, 0, followOptions(ctx, gate)) : undefined
}

/** A repeated Idempotency-Key: the first request's stream from its start, wherever it runs. */
export async function answerRepeat(ctx: ChatContext, gate: Gate, req: Request, userId: string, key: string, transport: Transport): Promise<Response> {
  let first: StreamSource | undefined
  try {
    first = await findFirst(ctx, gate, userId, key)
  } catch (err) {
    ctx.logger.error('could not look up the first request’s stream', { error: errorText(err) }, gate.root)
    return gate.reject('database_unavailable', 'could not find the first request’s answer', { 'retry-after': '1' })
  }
  if (!first) return gate.reject('duplicate_request', 'this Idempotency-Key was already used; its answer is stored with the first request')
  ctx.logger.info('chat request repeated; answering with the first stream', { first_stream_id: first.streamId, first_trace_id: first.traceId }, gate.root)
  if (transport === 'sse') return replay(ctx, gate, first, 0)
  gate.root.setAttributes({ [ATTR.streamId]: first.streamId, [ATTR.resumeTraceId]: first.traceId })
  const res = await answerAsJson(first, req.signal, { ...gate.headers, 'x-trace-id': first.traceId, 'x-stream-id': first.streamId })
  gate.root.setAttribute(ATTR.httpStatus, res.status)
  gate.root.end()
  ctx.later(Promise.resolve())
  return res
}
