// Request spans at chosen times for the alert tests, written through the telemetry pipeline (priced
// and rolled up as live traffic is): at gpt-4o prices one request of 100k in / 50k out costs $0.75.
import type { Sql } from 'postgres'
import { createTelemetryPipeline } from '../../shared/telemetry/pipeline.ts'
import type { SpanRow } from '../../shared/telemetry/rows.ts'

export interface RequestAt {
  at: Date
  failed?: boolean
  function?: 'chat' | 'embed'
  user?: string
  ttfb?: number
  /** frame_offsets_ms */
  frames?: number[]
  stalls?: number
  http?: number
}

let next = 1

export function requestSpan(r: RequestAt): SpanRow {
  const i = next++
  const frames = r.frames ?? [200, 300]
  return {
    trace_id: i.toString(16).padStart(32, 'a'), span_id: i.toString(16).padStart(16, 'b'), parent_span_id: null,
    name: `POST /functions/v1/${r.function ?? 'chat'}`, kind: 'server', start_time: r.at, end_time: new Date(r.at.getTime() + 900),
    duration_ms: 900, status_code: r.failed ? 'error' : 'unset', status_message: null, function: r.function ?? 'chat', model: 'gpt-4o',
    ttfb_ms: r.ttfb ?? 200, input_tokens: 100_000, output_tokens: 50_000, error_type: r.failed ? 'provider_error' : null,
    user_id: r.user ?? 'u1', session_id: 's1', attributes: {}, events: null, frame_offsets_ms: frames, frames: frames.length, bytes: 200,
    end_reason: r.failed ? 'error' : 'done', stalls: r.stalls ?? 0, max_gap_ms: 100, usage_estimated: false, http_status: r.http ?? 200,
    run_id: null,
  }
}

export async function insertRequests(sql: Sql, requests: RequestAt[]): Promise<void> {
  const pipeline = createTelemetryPipeline(sql)
  pipeline.pushSpans(requests.map(requestSpan))
  await pipeline.shutdown()
}

/** `n` requests spread over the second before `end`, `failed` of them failed. */
export function burst(end: Date, n: number, failed = 0, extra: Omit<RequestAt, 'at'> = {}): RequestAt[] {
  return Array.from({ length: n }, (_, i) => ({ ...extra, at: new Date(end.getTime() - 1000 + i), failed: i < failed }))
}

export const minutes = (base: Date, m: number) => new Date(base.getTime() + m * 60_000)
