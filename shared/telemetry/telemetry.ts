import type { Tracer } from '@opentelemetry/api'
import { AlwaysOffSampler, BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { Sql } from 'postgres'
import { createCoalescedFlush } from './coalesce.ts'
import { createLogger, type Logger } from './logger.ts'
import { createOtlpSpanExporter } from './otlp.ts'
import { createPostgresSpanProcessor } from './pg-span-processor.ts'
import { createTelemetryPipeline, type DropReport, type PipelineOptions, type TelemetryPipeline } from './pipeline.ts'
import type { LogLevel } from './rows.ts'

export interface Telemetry {
  tracer: Tracer
  logger: Logger
  pipeline?: TelemetryPipeline
  /**
   * Exports every ended span and writes everything queued. Cheap to call from many
   * streams at once: calls made while one flush runs share the next one.
   */
  flush(): Promise<void>
  /**
   * The runtime is about to end this process (Supabase's `beforeunload`; pass the event's
   * `detail`, the reason or `{reason}`): ends the requests still open as cut by shutdown and
   * writes everything queued, under `waitUntil`. Telemetry keeps working afterwards.
   */
  unload(detail?: unknown): Promise<void>
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
  /** OTEL_EXPORTER_OTLP_ENDPOINT: also export spans over OTLP/HTTP to `<endpoint>/v1/traces`. */
  otlpEndpoint?: string
  /** OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`). */
  otlpHeaders?: string | Record<string, string>
  writeLog?: (line: string) => void
  /** This process's id in telemetry.instances (default: a random one). */
  instanceId?: string
  /** A request on record is shown as lost once its process's heartbeat is this old (default 10 s). */
  lostAfterMs?: number
  /** EdgeRuntime.waitUntil on Supabase: holds the isolate for retries and for `unload`. */
  waitUntil?: (work: Promise<unknown>) => void
}

/**
 * The process's tracer and logger. Spans go to the pipeline as they end (a turn later; and, when
 * configured, through a BatchSpanProcessor to OTLP); logs go
 * straight to the same pipeline. Without `sql` spans are still created so trace ids
 * exist, but nothing is stored.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const write = options.writeLog ?? console.log
  const line = (level: string, message: string, fields: object) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }))

  const instance = { id: options.instanceId ?? crypto.randomUUID(), lostAfterMs: options.lostAfterMs ?? 10_000 }
  const pipeline = options.sql
    ? createTelemetryPipeline(options.sql, {
      onError: reportPipelineError, onDrops: reportDrops, instance, waitUntil: options.waitUntil, ...options.pipeline,
    })
    : undefined
  const postgresProcessor = pipeline ? createPostgresSpanProcessor(pipeline, reportUnstorableSpan) : undefined
  const exporters = [
    ...(options.otlpEndpoint ? [createOtlpSpanExporter({ endpoint: options.otlpEndpoint, headers: options.otlpHeaders })] : []),
    ...(options.exporters ?? []),
  ]
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [
      // Postgres: each span to the pipeline as it ends (the pipeline batches).
      ...(postgresProcessor ? [postgresProcessor] : []),
      // One processor per other exporter: a slow OTLP backend cannot hold up Postgres.
      ...exporters.map((e) => new BatchSpanProcessor(e, {
        scheduledDelayMillis: 100,
        maxExportBatchSize: 512,
        maxQueueSize: 8192,
      })),
    ],
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

  function reportUnstorableSpan(err: unknown) {
    line('warn', 'span not stored: it could not be made a row', { error: String((err as Error)?.message ?? err) })
  }

  function reportDrops(report: DropReport) {
    // stdout only: writing it to the full queue would push out one more row.
    line('warn', 'telemetry rows dropped', report)
  }

  const flush = createCoalescedFlush(async () => {
    await provider.forceFlush()
    await pipeline?.flush()
  })

  function unload(detail?: unknown): Promise<void> {
    postgresProcessor?.cutOpenRequests(shutdownReason(detail))
    const work = flush().catch(() => {})
    options.waitUntil?.(work)
    return work
  }

  return {
    tracer: provider.getTracer('streamscope'),
    logger,
    pipeline,
    flush,
    unload,
    shutdown: () => provider.shutdown(),
  }
}

/**
 * Telemetry switched off: nothing recorded or exported, a logger that writes nowhere.
 * Sampling is off rather than the API's no-op tracer, so every request still gets its own
 * trace id (x-trace-id, resume and idempotency are keyed by it): the baseline of the
 * benchmark does the same stream work and only the telemetry is missing.
 */
export function createNoopTelemetry(): Telemetry {
  return {
    tracer: new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('off'),
    logger: createLogger({ write: () => {}, level: 'error', consoleLevel: 'error' }),
    flush: async () => {},
    unload: async () => {},
    shutdown: async () => {},
  }
}

/** edge-runtime's `beforeunload` detail is the reason itself; the local stand-in's is `{reason}`. */
function shutdownReason(detail: unknown): string {
  const reason = typeof detail === 'string' ? detail : (detail as { reason?: unknown } | undefined)?.reason
  return typeof reason === 'string' && reason ? reason.slice(0, 64) : 'unknown'
}
