import { randomBytes } from 'node:crypto'
import type { SpanRow } from '../shared/telemetry/rows.ts'
import { SPAN_NULLS } from '../shared/telemetry/span-columns.ts'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

/**
 * The six spans of one realistic chat request (request span with a ~60-frame
 * stream, auth, history read, two message writes, provider call), as the
 * exporter hands them to the pipeline.
 */
export function chatTraceRows(startMs: number, i: number): SpanRow[] {
  const traceId = hex(16)
  const rootId = hex(8)
  const user = `user-${i % 500}`
  const session = `5b0c6f2e-1d2a-4c3b-9e8f-${(i % 10_000).toString().padStart(12, '0')}`
  const frames = 40 + (i % 40)
  const ttfb = 150 + (i % 97)
  const offsets = Array.from({ length: frames }, (_, k) => ttfb + k * 25 + (k % 7))
  const duration = offsets[offsets.length - 1] + 12
  const at = (ms: number) => new Date(startMs + ms)
  const base = (over: Partial<SpanRow> & Pick<SpanRow, 'name' | 'kind'>): SpanRow => ({
    ...SPAN_NULLS, trace_id: traceId, span_id: hex(8), parent_span_id: rootId, start_time: at(0), end_time: at(1), duration_ms: 1,
    status_code: 'unset', attributes: {}, ...over,
  })
  const db = (name: string, op: string, t0: number, ms: number) => base({
    name, kind: 'internal', start_time: at(t0), end_time: at(t0 + ms), duration_ms: ms,
    attributes: { 'db.system.name': 'postgresql', 'db.operation.name': op, 'db.collection.name': 'messages' },
  })
  return [
    base({
      name: 'POST /functions/v1/chat', kind: 'server', span_id: rootId, parent_span_id: null,
      end_time: at(duration), duration_ms: duration, function: 'chat', model: 'sim-1', ttfb_ms: ttfb,
      input_tokens: 20 + (i % 50), output_tokens: frames, user_id: user, session_id: session, http_status: 200,
      frame_offsets_ms: offsets, frames, bytes: frames * 96, end_reason: 'done', stalls: 0, max_gap_ms: 31,
      attributes: {
        'streamscope.function': 'chat', 'http.request.method': 'POST', 'http.route': '/functions/v1/chat',
        'enduser.id': user, 'gen_ai.conversation.id': session, 'gen_ai.request.model': 'sim-1',
        'http.response.status_code': 200, 'streamscope.stream.frames': frames, 'streamscope.stream.bytes': frames * 96,
        'streamscope.stream.end_reason': 'done', 'streamscope.ttfb_ms': ttfb,
        'gen_ai.usage.input_tokens': 20 + (i % 50), 'gen_ai.usage.output_tokens': frames,
      },
    }),
    base({ name: 'auth verify_jwt', kind: 'internal', start_time: at(0.1), end_time: at(0.3), duration_ms: 0.2 }),
    db('select messages', 'select', 0.4, 1.2),
    db('insert messages', 'insert', 1.7, 1.4),
    base({
      name: 'chat sim-1', kind: 'client', start_time: at(3), end_time: at(duration - 2), duration_ms: duration - 5,
      model: 'sim-1', input_tokens: 20 + (i % 50), output_tokens: frames,
      attributes: {
        'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'simulated', 'gen_ai.request.model': 'sim-1',
        'gen_ai.request.max_tokens': 1024, 'gen_ai.request.stream': true, 'gen_ai.response.model': 'sim-1',
        'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.response.time_to_first_chunk': ttfb / 1000,
        'gen_ai.usage.input_tokens': 20 + (i % 50), 'gen_ai.usage.output_tokens': frames,
      },
      events: [{ name: 'first_token', time: at(ttfb).toISOString(), attributes: {} }],
    }),
    db('insert messages', 'insert', duration - 1.5, 1.3),
  ]
}
