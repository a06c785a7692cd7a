import type { Span } from '@opentelemetry/api'
import type { TelemetryPipeline } from './pipeline.ts'
import { redactAttributes, redactString } from './redact.ts'
import type { LogLevel, LogRow } from './rows.ts'

/** What a line is stamped with: a span, or only a trace when no span of it is at hand. */
export type LogContext = Span | { traceId: string }

export interface Logger {
  debug(message: string, attributes?: Record<string, unknown>, at?: LogContext): void
  info(message: string, attributes?: Record<string, unknown>, at?: LogContext): void
  warn(message: string, attributes?: Record<string, unknown>, at?: LogContext): void
  error(message: string, attributes?: Record<string, unknown>, at?: LogContext): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  pipeline?: TelemetryPipeline
  level?: LogLevel
  /** Lowest level also written as a line; defaults to `level`. */
  consoleLevel?: LogLevel
  /** Where the JSON line goes; console.log by default (stdout on Node and Deno). */
  write?: (line: string) => void
}

/** Structured JSON logs, stamped with the span's trace_id/span_id, secrets redacted, to stdout and the logs table. */
export function createLogger({ pipeline, level = 'info', consoleLevel = level, write = console.log }: LoggerOptions = {}): Logger {
  const min = RANK[level]
  const minConsole = RANK[consoleLevel]
  const log = (lvl: LogLevel) => (rawMessage: string, rawAttributes: Record<string, unknown> = {}, at?: LogContext) => {
    if (RANK[lvl] < min) return
    // Scrubbed once, before either destination sees it.
    const message = redactString(rawMessage)
    const attributes = redactAttributes(rawAttributes)
    const ctx = at && ('spanContext' in at ? at.spanContext() : { traceId: at.traceId, spanId: null })
    const row: LogRow = {
      time: new Date(),
      level: lvl,
      trace_id: ctx?.traceId ?? null,
      span_id: ctx?.spanId ?? null,
      message,
      attributes,
    }
    if (RANK[lvl] >= minConsole) write(JSON.stringify({ time: row.time.toISOString(), level: lvl, trace_id: row.trace_id, span_id: row.span_id, message, ...attributes }))
    pipeline?.pushLogs([row])
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}
