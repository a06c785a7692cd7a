import type { SpanEvent, StoredSpanRow } from '../../../shared/telemetry/span-columns.ts'

/**
 * What the dashboard's loads and JSON API hand out: telemetry rows in their columns' own
 * names (see migrations/*_telemetry*.sql), with timestamps as ISO strings so the same
 * shape serves pages and JSON.
 */
type Iso<V> = V extends Date ? string : V

/** A telemetry.spans row (shared/telemetry/span-columns.ts), every column. */
export type SpanRow = { [K in keyof StoredSpanRow]: Iso<StoredSpanRow[K]> }
export type { SpanEvent }

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
  /** Messages stored with this trace id (the question, the answer). */
  messages: MessageRow[]
  /** The trace's chat streams, measured (traces.ts). */
  streams: StreamStats[]
}

export interface MessageRow {
  id: string
  session_id: string
  role: string
  status: string
  created_at: string
}

/** One request (chat or embed): its server span's columns, and how it ended (telemetry.request_status). */
export type StreamRow = Pick<SpanRow,
  | 'trace_id' | 'span_id' | 'start_time' | 'function' | 'duration_ms' | 'status_code' | 'model' | 'ttfb_ms' | 'input_tokens'
  | 'output_tokens' | 'cost_usd' | 'error_type' | 'user_id' | 'session_id' | 'end_reason' | 'frames' | 'stalls' | 'http_status'
> & { status: string }

/** Totals of a window, from the rollups. Percentiles are null without requests. */
export interface Kpis {
  requests: number
  errors: number
  error_rate: number | null
  ttfb_p50: number | null
  ttfb_p95: number | null
  duration_p95: number | null
  input_tokens: number
  output_tokens: number
  cost_usd: number
  /** Requests rejected with a 4xx: not in errors or error_rate (the error chart shows both, marked). */
  client_errors: number
  client_error_rate: number | null
}

/**
 * The streams' speed and the clients' view of them, from the rollups' stream histograms
 * (chat requests): percentiles null where nothing was observed.
 */
export interface StreamRates {
  /** Chat requests, and those whose client beacon was counted. */
  streams: number
  beacons: number
  /** Inter-token latency: gaps between consecutive frames, ms. */
  itl_p50: number | null
  itl_p95: number | null
  itl_p99: number | null
  /** Output tokens/s of the streams: the median and the slow tail (the 5th and 1st percentiles). */
  tps_p50: number | null
  tps_p05: number | null
  tps_p01: number | null
  /** TTFB measured by the server (every chat request) and by the client (beacons). */
  ttfb_p50: number | null
  ttfb_p95: number | null
  client_ttfb_p50: number | null
  client_ttfb_p95: number | null
  /** Per request, client TTFB minus server TTFB: the network and proxy share. */
  net_ttfb_p50: number | null
  net_ttfb_p95: number | null
}

export interface StreamRatePoint extends StreamRates {
  t: string
}

export interface ModelRates extends StreamRates {
  model: string
}

/** The overview's stream rates: the window's and the previous one's, per chart bucket, per chat model (busiest first). */
export interface OverviewRates {
  current: StreamRates
  previous: StreamRates
  points: StreamRatePoint[]
  models: ModelRates[]
}

/** One stream of a trace: its frames' gaps and speed (exact, from frame_offsets_ms), and its beacon. */
export interface StreamStats {
  span_id: string
  frames: number
  itl_p50: number | null
  itl_p95: number | null
  itl_p99: number | null
  max_gap_ms: number | null
  tokens_per_s: number | null
  ttfb_ms: number | null
  /** From the beacon's `client timing` span; null without one. */
  client_ttfb_ms: number | null
  client_duration_ms: number | null
}

/** One chart bucket of the overview; percentiles null in a bucket without requests. */
export interface OverviewPoint {
  t: string
  requests: number
  errors: number
  ttfb_p50: number | null
  ttfb_p95: number | null
  ttfb_p99: number | null
  duration_p50: number | null
  duration_p95: number | null
  duration_p99: number | null
  /** Average streams open at once over the bucket. */
  concurrent: number
}

/** Share of all requests of each bucket that failed with one error code (0..1). */
export interface ErrorSeries {
  code: string
  status: string
  total: number
  rates: number[]
}

export interface SpendPoint {
  t: string
  model: string
  requests: number
  input_tokens: number
  output_tokens: number
  cost_usd: number
}

export interface SpendTotals {
  requests: number
  input_tokens: number
  output_tokens: number
  cost_usd: number
}

export interface TopUser extends SpendTotals {
  user_id: string
}

export interface TopSession extends SpendTotals {
  session_id: string
  user_id: string
  last_seen: string
}

export interface SpendDay extends SpendTotals {
  day: string
  model: string
}

export interface HealthWindow {
  label: string
  minutes: number
  requests: number
  /** Chat requests that got a stream (not rejected with 4xx). */
  streams: number
  /** Streams that ended without chat.done: errors plus client aborts. */
  without_done: number
  aborted: number
  errors: number
  /** Requests whose isolate died under them (counted in errors too). */
  lost: number
  stalls: number
  error_rate: number | null
  /** Error rate divided by the error budget (1 − SLO): 1 spends the budget exactly on time. */
  burn_rate: number | null
}

export interface FlagState {
  key: string
  value: string
  updated_at: string | null
  updated_by: string | null
}

export interface FlagChange {
  key: string
  old_value: string | null
  new_value: string
  changed_by: string | null
  changed_at: string
}

export type { Alert } from '../../../shared/alert-rules.ts'
