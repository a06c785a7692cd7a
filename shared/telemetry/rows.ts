/** Row shapes of telemetry.spans and telemetry.logs, in the columns' own names. */
export interface SpanRow {
  trace_id: string
  span_id: string
  parent_span_id: string | null
  name: string
  kind: string
  start_time: Date
  end_time: Date
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
  events: unknown[] | null
  /** Arrival of each delta frame, ms from request start (one array per stream). */
  frame_offsets_ms: number[] | null
  frames: number | null
  bytes: number | null
  end_reason: string | null
  stalls: number | null
  max_gap_ms: number | null
  usage_estimated: boolean | null
  http_status: number | null
  run_id: string | null
  // cost_usd is not sent: the insert prices the span from telemetry.model_prices.
}

export interface LogRow {
  time: Date
  level: LogLevel
  trace_id: string | null
  span_id: string | null
  message: string
  attributes: Record<string, unknown>
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
