import { describe, expect, it } from 'vitest'
import type { SpanRow, StreamStats, Trace } from '$lib/types'
import { differences } from './differences'

const t0 = Date.parse('2026-11-25T12:00:00.000Z')

function trace(id: string, request: Partial<SpanRow>, stats: Partial<StreamStats> = {}): Trace {
  const base: SpanRow = {
    trace_id: id.repeat(32), span_id: `${id}`.repeat(16), parent_span_id: null, name: 'POST /functions/v1/chat', kind: 'server',
    start_time: new Date(t0).toISOString(), end_time: new Date(t0 + 1000).toISOString(), duration_ms: 1000, status_code: 'ok',
    status_message: null, function: 'chat', model: 'sim-1', ttfb_ms: null, input_tokens: null, output_tokens: null, error_type: null,
    user_id: null, session_id: null, attributes: {}, events: null, frame_offsets_ms: null, frames: null, bytes: null, end_reason: 'done',
    stalls: null, max_gap_ms: null, cost_usd: null, usage_estimated: null, http_status: 200, run_id: null,
  }
  const stream: StreamStats = {
    span_id: base.span_id, frames: 0, itl_p50: null, itl_p95: null, itl_p99: null, max_gap_ms: null, tokens_per_s: null,
    ttfb_ms: null, client_ttfb_ms: null, client_duration_ms: null, ...stats,
  }
  return { trace_id: base.trace_id, spans: [{ ...base, ...request }], logs: [], messages: [], streams: [stream] }
}

describe('differences', () => {
  const a = trace('a', { ttfb_ms: 100, duration_ms: 900, frame_offsets_ms: [100, 110, 130, 140], frames: 4, output_tokens: 4, cost_usd: 0.001 },
    { itl_p50: 10, itl_p95: 19, tokens_per_s: 100, client_ttfb_ms: 130 })
  const b = trace('b', { ttfb_ms: 250, duration_ms: 4000, frame_offsets_ms: [250, 2600, 2700], frames: 3, output_tokens: 3, cost_usd: 0.0005, end_reason: 'client_abort' })
  const by = Object.fromEntries(differences(a, b).map((d) => [d.key, d]))

  it('reads each side from its request span, with b − a for numbers', () => {
    expect(by.ttfb_ms).toMatchObject({ a: 100, b: 250, delta: 150, kind: 'ms' })
    expect(by.frames).toMatchObject({ a: 4, b: 3, delta: -1 })
    expect(by.cost_usd!.delta).toBeCloseTo(-0.0005, 12)
    expect(by.end_reason).toMatchObject({ a: 'done', b: 'client_abort', delta: null, kind: 'text' })
    expect(by.status).toMatchObject({ a: 'done', b: 'client abort' })
  })

  it('takes ITL, tokens/s and the client TTFB from the stream measures, and the longest gap from the frames', () => {
    expect(by.itl_p50_ms).toMatchObject({ a: 10, b: null, delta: null })
    expect(by.itl_p95_ms).toMatchObject({ a: 19, b: null })
    expect(by.tokens_per_s).toMatchObject({ a: 100 })
    expect(by.client_ttfb_ms).toMatchObject({ a: 130 })
    expect(by.max_gap_ms).toMatchObject({ a: 20, b: 2350 })
  })

  it('leaves the change empty where a side has no value', () => {
    expect(by.input_tokens).toMatchObject({ a: null, b: null, delta: null })
  })
})
