import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR } from './attributes.ts'
import { toOpenRow } from './open-rows.ts'
import type { TelemetryPipeline } from './pipeline.ts'
import type { SpanRow } from './rows.ts'
import { toSpanRow } from './to-span-row.ts'

export interface PostgresSpanProcessor extends SpanProcessor {
  /**
   * Ends every request span still open as cut by shutdown (end_reason `shutdown`, an error
   * naming `reason`): the runtime is about to end this process. Their rows are queued as usual;
   * the stream's own later end() is then a no-op.
   */
  cutOpenRequests(reason: string): void
}

const sampled = (span: ReadableSpan) => (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0
/** A request span: the function's server span (the dashboard's request, with an open row while it runs). */
const isRequest = (span: ReadableSpan) => span.kind === SpanKind.SERVER && span.attributes[ATTR.function] !== undefined

/**
 * Hands each span to the pipeline as it ends, as its row (encoded there to its COPY line).
 * No BatchSpanProcessor in front: it would be a second queue with its own bound, whose
 * drops the pipeline's stats never see, and up to 100 ms more before a span is queryable.
 * The pipeline already batches, bounds and counts every drop, and owns retries, so a
 * database outage never backs up into the SDK.
 *
 * A span is turned into its row a moment after it ends (the next timer turn), not inside
 * `span.end()`: the spans that end before the first token (auth, rate limit, history, the
 * user's message) would otherwise be encoded on the stream's critical path, ahead of the
 * query that follows them. They wait one event-loop turn, no longer; forceFlush and
 * shutdown take them at once.
 * A request span is also announced when it starts (`pipeline.opened`), so a request is on record
 * while it runs, and a process that dies under it leaves it behind as lost.
 * Never throws into `span.end()`: a span that cannot become a row is reported and skipped.
 */
export function createPostgresSpanProcessor(pipeline: TelemetryPipeline, onError: (err: unknown) => void): PostgresSpanProcessor {
  let ended: ReadableSpan[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const open = new Set<Span>()

  function encodeEnded() {
    if (timer) { clearTimeout(timer); timer = undefined }
    const spans = ended
    ended = []
    const rows: SpanRow[] = []
    for (const span of spans) {
      try { rows.push(toSpanRow(span)) } catch (err) {
        try { onError(err) } catch { /* this runs in a timer: a failing reporter must not take the process down */ }
      }
    }
    if (rows.length) pipeline.pushSpans(rows)
  }

  return {
    onStart(span: Span) {
      if (!sampled(span) || !isRequest(span)) return
      open.add(span)
      const { traceId, spanId } = span.spanContext()
      pipeline.opened(traceId, spanId, () => toOpenRow(span))
    },
    onEnd(span: ReadableSpan) {
      if (!sampled(span)) return
      if (open.delete(span as Span)) pipeline.closed(span.spanContext().traceId, span.spanContext().spanId)
      ended.push(span)
      timer ??= setTimeout(encodeEnded, 0)
    },
    cutOpenRequests(reason: string) {
      for (const span of [...open]) {
        span.setAttributes({ [ATTR.endReason]: 'shutdown', [ATTR.errorType]: 'shutdown', [ATTR.shutdownReason]: reason })
        span.setStatus({ code: SpanStatusCode.ERROR, message: `cut by shutdown (${reason})` })
        span.end()
      }
    },
    forceFlush: async () => encodeEnded(),
    shutdown: () => { encodeEnded(); return pipeline.shutdown() },
  }
}
