// The columns of a StreamRow (types.ts) as a request span, or a lost request, gives them: one
// list for every read that lists requests (the explorer, a session's turns).
import type { StreamRow } from '../types.ts'

/** Columns read as they are stored. */
const PLAIN = [
  'trace_id', 'span_id', 'start_time', 'function', 'duration_ms', 'status_code', 'model', 'ttfb_ms', 'input_tokens',
  'output_tokens', 'error_type', 'user_id', 'session_id', 'end_reason', 'frames', 'stalls', 'http_status',
] as const satisfies readonly (keyof StreamRow)[]

/** Columns computed from others, or cast for the driver. */
const DERIVED = {
  status: (s: string) => `telemetry.request_status(${s}.http_status, ${s}.status_code, ${s}.end_reason)`,
  cost_usd: (s: string) => `${s}.cost_usd::float8`,
} satisfies Partial<Record<keyof StreamRow, (alias: string) => string>>

// Every StreamRow field is in exactly one of the two lists: a field added to the type fails here.
type Listed = (typeof PLAIN)[number] | keyof typeof DERIVED
const EVERY_FIELD: Record<Exclude<keyof StreamRow, Listed>, never> = {}
void EVERY_FIELD

/** The select list of a StreamRow from the request span aliased `alias`. */
export function streamColumns(alias: string): string {
  return [
    ...PLAIN.map((c) => `${alias}.${c}`),
    ...Object.entries(DERIVED).map(([name, expr]) => `${expr(alias)} as ${name}`),
  ].join(', ')
}
