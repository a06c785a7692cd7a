import type { Sql } from 'postgres'
import { createBatchInsert, openKeysOf } from './batch-insert.ts'
import { createDrainSchedule } from './drain-schedule.ts'
import { createDropReporter } from './drop-report.ts'
import { createOpenRecord } from './open-record.ts'
import { createOpenRegistry } from './open-registry.ts'
import { spanKey, type Instance, type OpenRow } from './open-rows.ts'
import { createRowQueues, writeQueues } from './row-queues.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { createBatchWriter, type Row, type Table } from './writer.ts'

export interface PipelineOptions {
  /** Most rows (spans + logs) held while the database is slow or down; beyond it the oldest are dropped. */
  maxQueue?: number
  /** Most rows per batch (one transaction). */
  batchSize?: number
  /**
   * Batches written at once, each on its own pool connection (only used when more
   * than one batch is waiting: a backlog). Default 2: Node builds the next batch
   * while Postgres writes the previous one.
   */
  concurrency?: number
  /**
   * Send rows by COPY: spans that need no pricing or rollup (most of them) straight
   * into telemetry.spans, the rest into a stage the pricing-and-rollup INSERT reads,
   * in one transaction; logs straight into telemetry.logs. 'auto' (default): on
   * unless the server is PGlite, whose socket does not support COPY.
   */
  copy?: boolean | 'auto'
  /** How long a row may wait before a flush is started. */
  flushIntervalMs?: number
  /** First and longest wait between retries while the database fails. */
  retryMinMs?: number
  retryMaxMs?: number
  onError?: (err: unknown) => void
  /**
   * This process in telemetry.instances: requests still open at a batch are put on record
   * (telemetry.open_requests) and shown as lost once the instance's heartbeat is older than
   * `lostAfterMs`. Absent: nothing is put on record.
   */
  instance?: Instance
  /** Between heartbeats while requests are on record (default a third of lostAfterMs). */
  heartbeatMs?: number
  /**
   * EdgeRuntime.waitUntil on Supabase: handed the wait for the queue to be written whenever a
   * write failed and a retry is scheduled, so the isolate is not dropped with rows waiting.
   */
  waitUntil?: (work: Promise<unknown>) => void
  /** Told about drops at most once per `dropReportMs`, and only when there were new ones. */
  onDrops?: (report: DropReport) => void
  dropReportMs?: number
}

export interface PipelineStats {
  /** Rows waiting (including the batch being written). */
  queued: number
  written: number
  /** Rows given up on: queue over maxQueue (oldest first), or pushed after shutdown. */
  dropped: number
  /** Rows the database refused as invalid (isolated by splitting the batch); never retried. */
  rejected: number
  /** Failed write attempts (each is retried with backoff). */
  failures: number
  /** Batches written (one transaction each): under load, a few a second. */
  batches: number
  /** Span batches the database refused whole (a replay, a missing day, a bad row), written the careful way instead. */
  fallbacks: number
}

export interface DropReport extends PipelineStats {
  /** Dropped since the previous report. */
  dropped_since_last: number
}

export interface TelemetryPipeline {
  pushSpans(rows: SpanRow[]): void
  /** A request started: on record at the next batch unless `closed` comes first. `row` reads it then. */
  opened(traceId: string, spanId: string, row: () => OpenRow): void
  /** Its span ended (its row follows through pushSpans and supersedes the open one). */
  closed(traceId: string, spanId: string): void
  /** Resolves once nothing is queued (written or dropped), retries included; never rejects. */
  idle(): Promise<void>
  pushLogs(rows: LogRow[]): void
  /** Resolves when everything queued before the call is written (or given up on for now). */
  flush(): Promise<void>
  shutdown(): Promise<void>
  stats(): PipelineStats
}

/**
 * The one way telemetry reaches Postgres: bounded queues (row-queues.ts), batches (writer.ts)
 * written on a schedule with retry and backoff (drain-schedule.ts). push* never blocks and never
 * throws, so a stream cannot be slowed or failed by its own telemetry. Nothing here creates
 * spans: the SDK's processor calls the exporter with tracing suppressed, and the pipeline uses
 * no tracer.
 */
export function createTelemetryPipeline(sql: Sql, options: PipelineOptions = {}): TelemetryPipeline {
  const onError = options.onError ?? (() => {})
  const writer = createBatchWriter(sql, options.copy)
  const open = createOpenRegistry(onError)
  const stats = { written: 0, dropped: 0, rejected: 0, failures: 0, batches: 0 }
  const queues = createRowQueues({
    maxQueue: options.maxQueue ?? 50_000, batchSize: options.batchSize ?? 10_000, writer,
    onRejected(err) { stats.rejected++; onError(err) },
  })
  const snapshot = (): PipelineStats => ({ ...stats, queued: queues.size(), fallbacks: writer.fallbacks })
  const drops = createDropReporter({ onDrops: options.onDrops, everyMs: options.dropReportMs ?? 60_000, snapshot })
  const record = createOpenRecord({
    sql, instance: options.instance, open, heartbeatMs: options.heartbeatMs, onError, adopt: (rows) => push('spans', rows),
  })
  const insert = createBatchInsert({ writer, open, stats, onError, onNoOpenTable: record.stop })
  const concurrency = Math.max(1, options.concurrency ?? 2)
  const drain = createDrainSchedule({
    flushIntervalMs: options.flushIntervalMs ?? 250, retryMinMs: options.retryMinMs ?? 200, retryMaxMs: options.retryMaxMs ?? 10_000,
    async run() {
      await record.write()
      await writeQueues(queues, { concurrency, insert, overdue: () => drain.overdue(), bound })
    },
    full: () => queues.full(),
    empty: () => queues.size() === 0 && !open.pending,
    waiting: queues.waiting,
    onFailure(err) { stats.failures++; onError(err) },
    waitUntil: options.waitUntil,
  })

  function drop(n: number) {
    if (n <= 0) return
    stats.dropped += n
    drops.report()
  }

  function bound() {
    const dropped = queues.enforceBound()
    // A dropped request span keeps its open row: it shows as lost once this instance is gone.
    if (open.recorded) open.forget(openKeysOf(open, dropped.spans))
    drop(dropped.count)
  }

  function push(table: Table, rows: Row[]) {
    if (drain.closed) { drop(rows.length); return }
    drain.queued()
    queues.push(table, rows)
    bound()
    drain.schedule()
  }

  return {
    pushSpans: (rows) => push('spans', rows),
    opened(traceId, spanId, row) {
      if (!record.recording || drain.closed) return
      open.opened(spanKey(traceId, spanId), row)
      drain.queued()
      drain.schedule()
    },
    closed: (traceId, spanId) => open.closed(spanKey(traceId, spanId)),
    idle: drain.idle,
    pushLogs: (rows) => push('logs', rows),
    flush: drain.flush,
    async shutdown() {
      await drain.flush()
      drain.close()
      record.shutdown()
      drops.stop()
    },
    stats: snapshot,
  }
}
