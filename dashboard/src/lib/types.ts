/**
 * What the dashboard's loads and JSON API hand out: telemetry rows in their columns' own
 * names (see migrations/*_telemetry.sql), with timestamps as ISO strings so the same
 * shape serves pages and JSON.
 */
export interface SpanRow {
  trace_id: string
  span_id: string
  parent_span_id: string | null
  name: string
  kind: string
  start_time: string
  end_time: string
  duration_ms: number
  status_code: string
  status_message: string | null
  function: string | null
  model: string | null
  ttfb_ms: number | null
  input_tokens: number | null
  output_tokens: number | null
  error_type: string | null
  user_id: string | null
  session_id: string | null
  attributes: Record<string, unknown>
  events: SpanEvent[] | null
}

export interface SpanEvent {
  name: string
  time: string
  attributes?: Record<string, unknown>
}

export interface LogRow {
  time: string
  level: string
  trace_id: string | null
  span_id: string | null
  message: string
  attributes: Record<string, unknown>
}

export interface Trace {
  trace_id: string
  spans: SpanRow[]
  logs: LogRow[]
}

/** One chat stream: its server span's columns plus the stream attributes the table shows. */
export interface StreamRow {
  trace_id: string
  span_id: string
  start_time: string
  duration_ms: number
  status_code: string
  model: string | null
  ttfb_ms: number | null
  input_tokens: number | null
  output_tokens: number | null
  error_type: string | null
  user_id: string | null
  end_reason: string | null
  frames: number | null
  http_status: number | null
}

/** One minute of the TTFB chart; p50/p95 are null for a minute without streams. */
export interface TtfbPoint {
  minute: string
  p50: number | null
  p95: number | null
  streams: number
}

export interface StreamSummary {
  streams: number
  failed: number
  p50: number | null
  p95: number | null
}
