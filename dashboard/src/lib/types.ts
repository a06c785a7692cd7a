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

/** A row of the streams explorer: a request, and how many times its stream was resumed. */
export type ExplorerRow = StreamRow & { resumes: number }

/** A saved view of the streams explorer (telemetry.saved_views): a name for a query string. */
export interface SavedView {
  id: string
  name: string
  /** The explorer's query string, without `?` and without a page cursor. */
  query: string
  saved_by: string
  saved_at: string
}

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

/** Requests, errors (telemetry.request_status = 'error', as the rollups count them), tokens and cost of a set of requests. */
export interface RequestTotals extends SpendTotals {
  errors: number
  /** errors / requests; null without requests. */
  error_rate: number | null
}

/** A conversation: its requests (turns) in start order. */
export interface Session {
  session_id: string
  /** Users whose requests carried this session id (normally one). */
  user_ids: string[]
  turns: StreamRow[]
  /** More turns are stored than listed (the first ones are listed). */
  truncated: boolean
  /** Of the turns listed. */
  totals: RequestTotals
}

/** One session of a user within a window; session_id null for requests without one (embed). */
export interface UserSession extends RequestTotals {
  session_id: string | null
  first_seen: string
  last_seen: string
}

/** A user's requests within a window: totals over all of them, sessions by last activity. */
export interface UserActivity {
  user_id: string
  from: string
  to: string
  totals: RequestTotals & { sessions: number }
  sessions: UserSession[]
  /** More sessions are in the window than listed (the most recent are listed). */
  truncated: boolean
}

/** One line of the comparison of two streams: a fact of each, and b − a when both are numbers. */
export interface Difference {
  key: string
  label: string
  kind: 'text' | 'ms' | 'count' | 'usd'
  a: string | number | null
  b: string | number | null
  delta: number | null
}

/** Two traces side by side (GET /api/compare). */
export interface Comparison {
  a: Trace
  b: Trace
  differences: Difference[]
}

import type { AlertMetric, AlertRule } from '../../../shared/alert-rules.ts'
export type { AlertMetric, AlertRule, AlertRuleInput } from '../../../shared/alert-rules.ts'

/** An alert rule's state as the evaluator last left it (telemetry.alert_state). */
export interface AlertRuleState {
  /** Subjects firing now: 0 or 1, or any number of users for a user_spend rule. */
  firing: number
  /** The whole service's value at the last evaluation; null for user_spend and before the first. */
  value: number | null
  requests: number | null
  /** When the whole service's alert fired, while it fires. */
  since: string | null
  evaluated_at: string | null
  /** Resolved within its cooldown: it cannot fire again before this. */
  cooling_until: string | null
}

export interface AlertRuleView extends AlertRule {
  state: AlertRuleState
}

/** One firing from telemetry.alert_events, with its resolution once there is one. */
export interface AlertHistoryEntry {
  firing_id: string
  rule_name: string
  metric: AlertMetric
  subject: string
  fired_at: string
  value: number | null
  threshold: number
  window_minutes: number
  resolved_at: string | null
  /** Whether the webhook took the firing: pending, sent, skipped (no webhook). */
  delivery: string
}
