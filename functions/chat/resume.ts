import { ROOT_CONTEXT, trace, type Span, type Tracer } from '@opentelemetry/api'
import { toSeqOfEventId } from '../../shared/sse/frames.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { toSseBody } from './sse-body.ts'
import type { ResumeBuffer } from './resume-buffer.ts'
import type { StreamSource } from './source.ts'
import type { AnswerRun } from './stream.ts'
import { followStream, type FollowOptions } from './stream-follow.ts'
import { spanOfStream, type StreamLogStore, type StreamRow } from './stream-log-store.ts'

/** Which stream a resume names: by the id the server made (`x-stream-id`), or, as older clients do, by trace id. */
export type ResumeTarget = { streamId: string; traceId?: undefined } | { traceId: string; streamId?: undefined }

export type ResumeRequest =
  | { ok: true; resume?: ResumeTarget & { fromSeq: number } }
  | { ok: false; message: string }

const STREAM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const TRACE_ID = /^[0-9a-f]{32}$/

/**
 * The resume headers of docs/chat.md: `x-resume-stream-id` (the `x-stream-id` of the stream)
 * and `Last-Event-ID`; `x-resume-trace-id` is still understood, for the caller's own streams.
 */
export function toResumeRequest(headers: Headers): ResumeRequest {
  const streamId = headers.get('x-resume-stream-id')
  const traceId = headers.get('x-resume-trace-id')
  const lastEventId = headers.get('last-event-id')
  if (streamId === null && traceId === null) {
    if (lastEventId !== null) return { ok: false, message: 'Last-Event-ID needs x-resume-stream-id (the x-stream-id of the stream to resume)' }
    return { ok: true }
  }
  if (streamId !== null && !STREAM_ID.test(streamId)) return { ok: false, message: 'x-resume-stream-id must be a lowercase UUID (the x-stream-id of the stream to resume)' }
  if (streamId === null && !TRACE_ID.test(traceId!)) return { ok: false, message: 'x-resume-trace-id must be 32 lowercase hex characters' }
  const fromSeq = toSeqOfEventId(lastEventId)
  if (fromSeq === undefined) return { ok: false, message: 'Last-Event-ID must be a non-negative integer (the seq of the last chat.delta received)' }
  return { ok: true, resume: streamId !== null ? { streamId, fromSeq } : { traceId: traceId!, fromSeq } }
}

/** A stream a resume or a repeat names: held by this process, or logged by another isolate. */
export type Located =
  | { run: AnswerRun; userId: string; row?: undefined }
  | { row: StreamRow; userId: string; run?: undefined }

/**
 * The stream a resume names, for `userId`: by stream id any user's (the caller then gets 404
 * for another's), held here or else from the frame log; by trace id only the caller's own,
 * and only one held here.
 */
export async function locateStream(buffer: ResumeBuffer, store: StreamLogStore | undefined, target: ResumeTarget, userId: string): Promise<Located | undefined> {
  if (target.streamId === undefined) return buffer.byTrace(userId, target.traceId)
  const held = buffer.get(target.streamId)
  if (held) return held
  const row = await store?.byId(target.streamId)
  return row ? { row, userId: row.user_id } : undefined
}

/** The stream's request span, for a resume of its owner to go under. */
export const rootOf = (l: Located): Span => l.run?.root ?? spanOfStream(l.row!)

/** What a connection reads for a located stream: the run itself, or its log followed from `fromSeq`. */
export function toSource(l: Located, fromSeq: number, f: Omit<FollowOptions, 'stream' | 'fromSeq'>): StreamSource {
  return l.run ?? followStream({ ...f, stream: l.row!, fromSeq })
}

/** Last-Event-ID beyond what the stream produced. A live logged stream may be ahead of its log. */
export function isAhead(l: Located, fromSeq: number): number | undefined {
  const last = l.run ? l.run.lastSeq() : l.row!.last_seq
  if (fromSeq <= last || (l.row && l.row.status === 'live')) return undefined
  return last
}

export interface ResumeAnswer {
  tracer: Tracer
  /** The resume request's span (already on the original trace when the stream was found at arrival). */
  root: Span
  run: StreamSource
  fromSeq: number
  heartbeatMs: number
  headers: Record<string, string>
  onEnd(): void
}

/**
 * Streams a held run from `fromSeq` on: the kept frames, then live ones, then its final
 * frame. Never calls the model and stores nothing; a `chat resume` span (linked to the
 * stream's original request span) covers this connection.
 */
export function answerResume(o: ResumeAnswer): Response {
  const original = o.run.root.spanContext()
  const resumed = { [ATTR.streamId]: o.run.streamId, [ATTR.resumeTraceId]: original.traceId, [ATTR.resumeFromSeq]: o.fromSeq }
  o.root.setAttributes({ ...resumed, [ATTR.httpStatus]: 200 })
  const span = o.tracer.startSpan('chat resume', { links: [{ context: original }], attributes: resumed }, trace.setSpan(ROOT_CONTEXT, o.root))
  const body = toSseBody(o.run, {
    fromSeq: o.fromSeq, heartbeatMs: o.heartbeatMs, resumed: true,
    onEnd(end, sent) {
      span.setAttributes({ [ATTR.frames]: sent, [ATTR.endReason]: end })
      span.end()
      o.root.end()
      o.onEnd()
    },
  })
  return new Response(body, {
    headers: { ...o.headers, 'x-trace-id': original.traceId, 'x-stream-id': o.run.streamId, 'x-resumed-from': String(o.fromSeq) },
  })
}
