import type { Gate } from '../gate.ts'
import type { ChatContext } from './context.ts'
import { followOptions, replay } from './replay.ts'
import { isAhead, toSource, type Located, type ResumeTarget } from './resume.ts'

/** A resume: the frames after Last-Event-ID of a stream held here or logged by another isolate. */
export function answerResumeRequest(
  ctx: ChatContext, gate: Gate, target: ResumeTarget & { fromSeq: number }, found: Located | undefined, userId: string,
): Response {
  if (!found) return gate.reject('stream_gone', 'this stream cannot be resumed (unknown or expired); ask again')
  if (found.userId !== userId) return gate.reject('not_found', 'no such stream')
  const { fromSeq } = target
  const last = isAhead(found, fromSeq)
  if (last !== undefined) return gate.reject('invalid_request', `Last-Event-ID ${fromSeq} is ahead of the stream (last seq ${last})`)
  const source = toSource(found, fromSeq, followOptions(ctx, gate))
  ctx.logger.info('chat stream resumed', {
    resumed_stream_id: source.streamId, resumed_trace_id: source.traceId, from_seq: fromSeq, held_here: found.run !== undefined,
  }, gate.root)
  return replay(ctx, gate, source, fromSeq)
}
