import { describe, expect, it } from 'vitest'
import type { SpanRow } from '$lib/types'
import { barPosition, requestSpan, toWaterfall } from './waterfall'

const t0 = Date.parse('2026-11-25T12:00:00.000Z')

function span(span_id: string, parent_span_id: string | null, startMs: number, duration_ms: number): SpanRow {
  return {
    trace_id: 'a'.repeat(32), span_id, parent_span_id, name: span_id, kind: 'internal',
    start_time: new Date(t0 + startMs).toISOString(), end_time: new Date(t0 + startMs + duration_ms).toISOString(),
    duration_ms, status_code: 'unset', status_message: null, function: null, model: null, ttfb_ms: null,
    input_tokens: null, output_tokens: null, error_type: null, user_id: null, session_id: null, attributes: {}, events: null,
    frame_offsets_ms: null, frames: null, bytes: null, end_reason: null, stalls: null, max_gap_ms: null, cost_usd: null,
    usage_estimated: null, http_status: null, run_id: null,
  }
}

describe('toWaterfall', () => {
  it('puts each parent before its children, siblings by start, with depth', () => {
    const spans = [span('chat', 'root', 15, 900), span('auth', 'root', 1, 2), span('root', 'remote-caller', 0, 1000), span('first', 'chat', 300, 1)]
    const { rows, total_ms } = toWaterfall(spans)
    expect(rows.map((r) => [r.span.span_id, r.depth, r.offset_ms])).toEqual([
      ['root', 0, 0], ['auth', 1, 1], ['chat', 1, 15], ['first', 2, 300],
    ])
    expect(total_ms).toBe(1000)
  })

  it('keeps every span even when parents form a cycle', () => {
    const { rows } = toWaterfall([span('a', 'b', 0, 1), span('b', 'a', 1, 1)])
    expect(rows.map((r) => r.span.span_id).sort()).toEqual(['a', 'b'])
  })
})

describe('requestSpan', () => {
  it('is the server span of a function, else the first root', () => {
    const provider = span('provider', 'request', 5, 800)
    const request = { ...span('request', 'remote-caller', 2, 900), kind: 'server', function: 'chat' }
    expect(requestSpan([span('caller', null, 0, 1000), provider, request]).span_id).toBe('request')
    expect(requestSpan([provider, span('auth', null, 1, 3), span('root', null, 0, 10)]).span_id).toBe('root')
  })
})

describe('barPosition', () => {
  it('places bars in percent of the trace and keeps tiny spans visible', () => {
    expect(barPosition(250, 500, 1000)).toEqual({ left: 25, width: 50 })
    expect(barPosition(0, 0.001, 1000).width).toBeGreaterThan(0)
    const last = barPosition(1000, 0, 1000)
    expect(last.left + last.width).toBeLessThanOrEqual(100)
  })
})
