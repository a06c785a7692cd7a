/** Row shapes of telemetry.spans and telemetry.logs, in the columns' own names. */
export type { SpanEvent, SpanRow } from './span-columns.ts'

export interface LogRow {
  time: Date
  level: LogLevel
  trace_id: string | null
  span_id: string | null
  message: string
  attributes: Record<string, unknown>
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
