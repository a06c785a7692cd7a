import type { ChatAnswer } from '../../shared/sse/frames.ts'
import type { RunReader, StreamSource } from './source.ts'

/**
 * The backout transport: waits for the whole answer and returns it as one JSON document
 * (same run, same persistence and telemetry as the SSE path). A client that goes away
 * (request signal) cuts the run at once: a JSON answer is not resumable.
 */
export async function answerAsJson(run: StreamSource, signal: AbortSignal | undefined, headers: Record<string, string>): Promise<Response> {
  const reader: RunReader = { evict() {}, progress() {} }
  run.attach(reader)
  const onAbort = () => run.detach(reader)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    while (!run.outcome()) await run.advance()
  } finally {
    signal?.removeEventListener('abort', onAbort)
    run.release(reader)
  }
  const outcome = run.outcome()!
  switch (outcome.kind) {
    case 'done': {
      const { trace_id, message_id, finish_reason, usage, ttfb_ms, duration_ms } = outcome.done
      const answer: ChatAnswer = { trace_id, message_id, content: outcome.content, finish_reason, usage, ttfb_ms, duration_ms }
      return Response.json(answer, { headers })
    }
    case 'error': {
      const status = outcome.code === 'database_unavailable' ? 503 : 502
      const retry: Record<string, string> = outcome.retryAfter !== undefined ? { 'retry-after': String(Math.ceil(outcome.retryAfter)) } : {}
      return Response.json({ error: { code: outcome.code, message: outcome.message, trace_id: run.traceId } }, { status, headers: { ...headers, ...retry } })
    }
    case 'cut':
      // Nobody is listening any more; answer something well-formed for the logs.
      return Response.json({ error: { code: 'stream_cut', message: 'the client disconnected', trace_id: run.traceId } }, { status: 499, headers })
  }
}
