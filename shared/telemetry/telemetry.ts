import type { Tracer } from '@opentelemetry/api'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { Sql } from 'postgres'
import { createLogger, type Logger } from './logger.ts'
import { createPostgresSpanExporter } from './pg-span-exporter.ts'
import { createTelemetryPipeline, type PipelineOptions, type TelemetryPipeline } from './pipeline.ts'
import type { LogLevel } from './rows.ts'

export interface Telemetry {
  tracer: Tracer
  logger: Logger
  pipeline?: TelemetryPipeline
  /** Exports every ended span and writes everything queued. Safe to call often. */
  flush(): Promise<void>
  shutdown(): Promise<void>
}

export interface TelemetryOptions {
  serviceName: string
  sql?: Sql
  logLevel?: LogLevel
  consoleLevel?: LogLevel
  pipeline?: PipelineOptions
  /** Extra exporters beside Postgres (tests use InMemorySpanExporter). */
  exporters?: SpanExporter[]
  writeLog?: (line: string) => void
}

/**
 * The process's tracer and logger. Spans go BatchSpanProcessor -> Postgres exporter
 * -> pipeline; logs go straight to the same pipeline. Without `sql` (telemetry off)
 * spans are still created so trace ids exist, but nothing is stored.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const pipeline = options.sql
    ? createTelemetryPipeline(options.sql, { onError: reportPipelineError, ...options.pipeline })
    : undefined
  const exporters = [...(pipeline ? [createPostgresSpanExporter(pipeline)] : []), ...(options.exporters ?? [])]
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: exporters.map((e) => new BatchSpanProcessor(e, {
      scheduledDelayMillis: 100,
      maxExportBatchSize: 512,
      maxQueueSize: 8192,
    })),
  })
  const logger = createLogger({ pipeline, level: options.logLevel, consoleLevel: options.consoleLevel, write: options.writeLog })
  let lastErrorLog = 0

  function reportPipelineError(err: unknown) {
    // One line per 10 s at most: an outage must not flood stdout (and never the logs table).
    const now = Date.now()
    if (now - lastErrorLog < 10_000) return
    lastErrorLog = now
    ;(options.writeLog ?? console.error)(JSON.stringify({
      time: new Date().toISOString(), level: 'warn', message: 'telemetry write failed; will retry',
      error: String((err as Error)?.message ?? err), ...pipeline?.stats(),
    }))
  }

  return {
    tracer: provider.getTracer('streamscope'),
    logger,
    pipeline,
    async flush() {
      await provider.forceFlush()
      await pipeline?.flush()
    },
    shutdown: () => provider.shutdown(),
  }
}
