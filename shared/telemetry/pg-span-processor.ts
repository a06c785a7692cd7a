import { TraceFlags } from '@opentelemetry/api'
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { TelemetryPipeline } from './pipeline.ts'
import type { SpanRow } from './rows.ts'
import { toSpanRow } from './to-span-row.ts'

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
 * Never throws into `span.end()`: a span that cannot become a row is reported and skipped.
 */
export function createPostgresSpanProcessor(pipeline: TelemetryPipeline, onError: (err: unknown) => void): SpanProcessor {
  let ended: ReadableSpan[] = []
  let timer: ReturnType<typeof setTimeout> | undefined

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
    onStart() {},
    onEnd(span: ReadableSpan) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
      ended.push(span)
      timer ??= setTimeout(encodeEnded, 0)
    },
    forceFlush: async () => encodeEnded(),
    shutdown: () => { encodeEnded(); return pipeline.shutdown() },
  }
}
