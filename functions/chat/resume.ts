import { ROOT_CONTEXT, trace, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { toSseBody } from './sse-body.ts'
import type { AnswerRun } from './stream.ts'

export type ResumeRequest =
  | { ok: true; resume?: { traceId: string; fromSeq: number } }
  | { ok: false; message: string }

const TRACE_ID = /^[0-9a-f]{32}$/
const SEQ = /^\d{1,15}$/

/** The resume headers of docs/chat.md: `x-resume-trace-id` and `Last-Event-ID`. */
export function toResumeRequest(headers: Headers): ResumeRequest {
  const traceId = headers.get('x-resume-trace-id')
  const lastEventId = headers.get('last-event-id')
  if (traceId === null) {
    if (lastEventId !== null) return { ok: false, message: 'Last-Event-ID needs x-resume-trace-id (the x-trace-id of the stream to resume)' }
    return { ok: true }
  }
  if (!TRACE_ID.test(traceId)) return { ok: false, message: 'x-resume-trace-id must be 32 lowercase hex characters' }
  const raw = (lastEventId ?? '').trim()
  if (raw !== '' && !SEQ.test(raw)) return { ok: false, message: 'Last-Event-ID must be a non-negative integer (the seq of the last chat.delta received)' }
  return { ok: true, resume: { traceId, fromSeq: raw === '' ? 0 : Number(raw) } }
}

/** The trace id named by a resume request, if it looks like one (before any check). */
export const resumeTraceIdOf = (headers: Headers): string | undefined => {
  const id = headers.get('x-resume-trace-id')
  return id !== null && TRACE_ID.test(id) ? id : undefined
}

export interface ResumeAnswer {
  tracer: Tracer
  /** The resume request's span (already on the original trace when the stream was found at arrival). */
  root: Span
  run: AnswerRun
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
  o.root.setAttributes({ [ATTR.resumeTraceId]: original.traceId, [ATTR.resumeFromSeq]: o.fromSeq, [ATTR.httpStatus]: 200 })
  const span = o.tracer.startSpan('chat resume', {
    links: [{ context: original }],
    attributes: { [ATTR.resumeTraceId]: original.traceId, [ATTR.resumeFromSeq]: o.fromSeq },
  }, trace.setSpan(ROOT_CONTEXT, o.root))
  const body = toSseBody(o.run, {
    fromSeq: o.fromSeq, heartbeatMs: o.heartbeatMs, resumed: true,
    onEnd(end, sent) {
      span.setAttributes({ [ATTR.frames]: sent, [ATTR.endReason]: end })
      span.end()
      o.root.end()
      o.onEnd()
    },
  })
  return new Response(body, { headers: { ...o.headers, 'x-trace-id': original.traceId, 'x-resumed-from': String(o.fromSeq) } })
}
