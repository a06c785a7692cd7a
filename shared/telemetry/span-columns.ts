import { ATTR } from './attributes.ts'

// telemetry.spans' columns (migrations/*telemetry*.sql), declared once: the row types, the
// columns the row builder promotes from attributes, the COPY line, the unnest() statement and
// every column list follow from this table. A new column is a migration and one line here.

/** The SQL types span columns have, and the TypeScript value each holds. */
export interface SqlValues {
  text: string
  timestamptz: Date
  float8: number
  real: number
  int4: number
  int2: number
  bool: boolean
  numeric: number
  'real[]': number[]
  jsonb: unknown
}
export type SqlType = keyof SqlValues

export interface ColumnSpec {
  readonly type: SqlType
  /** Nullable in the table (and null in a row when the value is missing). */
  readonly null?: true
  /** Promoted from this span attribute (to-span-row.ts). */
  readonly attr?: string
  /** Computed by the insert with this SQL expression (of the written columns); never sent. */
  readonly insert?: string
  /** A jsonb column's value type (a type only: see `json`). */
  readonly json?: unknown
}

/** A jsonb column's value type, for the row types (no value at run time). */
const json = <T>() => undefined as T

/** One element of a span's `events`. */
export interface SpanEvent {
  name: string
  time: string
  attributes?: Record<string, unknown>
}

export const SPAN_TABLE = {
  trace_id: { type: 'text' },
  span_id: { type: 'text' },
  parent_span_id: { type: 'text', null: true },
  name: { type: 'text' },
  kind: { type: 'text' },
  start_time: { type: 'timestamptz' },
  end_time: { type: 'timestamptz' },
  duration_ms: { type: 'float8' },
  status_code: { type: 'text' },
  status_message: { type: 'text', null: true },
  function: { type: 'text', null: true, attr: ATTR.function },
  model: { type: 'text', null: true, attr: ATTR.requestModel },
  ttfb_ms: { type: 'float8', null: true, attr: ATTR.ttfbMs },
  input_tokens: { type: 'int4', null: true, attr: ATTR.inputTokens },
  output_tokens: { type: 'int4', null: true, attr: ATTR.outputTokens },
  error_type: { type: 'text', null: true, attr: ATTR.errorType },
  user_id: { type: 'text', null: true, attr: ATTR.userId },
  session_id: { type: 'text', null: true, attr: ATTR.conversationId },
  attributes: { type: 'jsonb', json: json<Record<string, unknown>>() },
  events: { type: 'jsonb', null: true, json: json<SpanEvent[]>() },
  /** Arrival of each delta frame, ms from request start (one array per stream). */
  frame_offsets_ms: { type: 'real[]', null: true, attr: ATTR.frameOffsetsMs },
  frames: { type: 'int4', null: true, attr: ATTR.frames },
  bytes: { type: 'int4', null: true, attr: ATTR.bytes },
  end_reason: { type: 'text', null: true, attr: ATTR.endReason },
  stalls: { type: 'int4', null: true, attr: ATTR.stalls },
  max_gap_ms: { type: 'real', null: true, attr: ATTR.maxGapMs },
  cost_usd: { type: 'numeric', null: true, insert: '(select c from telemetry.span_costs(model, start_time, input_tokens, output_tokens) as c)' },
  usage_estimated: { type: 'bool', null: true, attr: ATTR.usageEstimated },
  http_status: { type: 'int2', null: true, attr: ATTR.httpStatus },
  run_id: { type: 'text', null: true, attr: ATTR.runId },
} as const satisfies Record<string, ColumnSpec>

type Table = typeof SPAN_TABLE
type Value<C> =
  | (C extends { json: infer J } ? J : C extends { type: infer T extends SqlType } ? SqlValues[T] : never)
  | (C extends { null: true } ? null : never)
type Written = { [K in keyof Table]: Table[K] extends { insert: string } ? never : K }[keyof Table]
type Nullable = { [K in keyof Table]: Table[K] extends { null: true } ? K : never }[Written]

/** A telemetry.spans row as stored, every column. */
export type StoredSpanRow = { -readonly [K in keyof Table]: Value<Table[K]> }
/** A span row as a writer sends it: every column but those the insert computes. */
export type SpanRow = { -readonly [K in Written]: Value<Table[K]> }
export type SpanColumn = keyof StoredSpanRow

export interface NamedColumn extends ColumnSpec { readonly name: SpanColumn }

/** Every column, in the table's order. */
export const ALL_SPAN_COLUMNS: readonly NamedColumn[] = Object.entries(SPAN_TABLE).map(([name, spec]) => ({ name: name as SpanColumn, ...spec }))
/** The columns a writer sends, in the order every source yields them (COPY, unnest, the stage). */
export const WRITTEN_SPAN_COLUMNS = ALL_SPAN_COLUMNS.filter((c) => c.insert === undefined) as readonly (NamedColumn & { name: Written })[]
export const SPAN_COLUMNS: readonly Written[] = WRITTEN_SPAN_COLUMNS.map((c) => c.name)

/**
 * Every written column null, where a span row starts: spread first, then the NOT NULL columns
 * set (its type leaves them out, so the compiler asks for them). Rows made so share one shape
 * with every column in place, which keeps building and encoding them fast; columns added to an
 * object after a spread, or under computed keys, would give each row a shape of its own or a
 * slow dictionary.
 */
export const SPAN_NULLS = Object.fromEntries(SPAN_COLUMNS.map((c) => [c, null])) as { [K in Nullable]: null }

/** The select list that reads every column into StoredSpanRow's types (numeric as a JS number). */
export const SPAN_SELECT = ALL_SPAN_COLUMNS.map((c) => (c.type === 'numeric' ? `${c.name}::float8 as ${c.name}` : c.name)).join(', ')
