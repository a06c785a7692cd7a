import type { Sql } from 'postgres'
import { insertLogs, insertSpans } from './insert.ts'
import type { LogRow, SpanRow } from './rows.ts'

export interface PipelineOptions {
  /** Most rows (spans + logs) held while the database is slow or down; beyond it the oldest are dropped. */
  maxQueue?: number
  /** Rows per INSERT statement. */
  batchSize?: number
  /** How long a row may wait before a flush is started. */
  flushIntervalMs?: number
  /** First and longest wait between retries while the database fails. */
  retryMinMs?: number
  retryMaxMs?: number
  onError?: (err: unknown) => void
}

export interface PipelineStats {
  queued: number
  written: number
  dropped: number
  failures: number
}

export interface TelemetryPipeline {
  pushSpans(rows: SpanRow[]): void
  pushLogs(rows: LogRow[]): void
  /** Resolves when everything queued before the call is written (or given up on for now). */
  flush(): Promise<void>
  shutdown(): Promise<void>
  stats(): PipelineStats
}

type Table = 'spans' | 'logs'
const NO_PARTITION = '23514' // check_violation: "no partition of relation ... found for row"

/**
 * The one way telemetry reaches Postgres: bounded queues, multi-row INSERTs, retry
 * with backoff. push* never blocks and never throws, so a stream cannot be slowed
 * or failed by its own telemetry.
 */
export function createTelemetryPipeline(sql: Sql, options: PipelineOptions = {}): TelemetryPipeline {
  const maxQueue = options.maxQueue ?? 50_000
  const batchSize = options.batchSize ?? 2_000
  const flushIntervalMs = options.flushIntervalMs ?? 250
  const retryMinMs = options.retryMinMs ?? 200
  const retryMaxMs = options.retryMaxMs ?? 10_000
  const onError = options.onError ?? (() => {})

  const queues: { spans: SpanRow[]; logs: LogRow[] } = { spans: [], logs: [] }
  const stats: PipelineStats = { queued: 0, written: 0, dropped: 0, failures: 0 }
  let timer: ReturnType<typeof setTimeout> | undefined
  let draining: Promise<void> | undefined
  let retryDelay = 0
  let closed = false

  let inFlight = 0
  const size = () => queues.spans.length + queues.logs.length + inFlight

  function enforceBound() {
    const over = size() - maxQueue
    if (over <= 0) return
    // Drop the oldest: fresh telemetry is worth more to an operator than stale.
    const fromSpans = Math.min(over, queues.spans.length)
    queues.spans.splice(0, fromSpans)
    const fromLogs = Math.min(over - fromSpans, queues.logs.length)
    queues.logs.splice(0, fromLogs)
    stats.dropped += fromSpans + fromLogs
  }

  function push<T extends SpanRow | LogRow>(queue: T[], rows: T[]) {
    if (closed) { stats.dropped += rows.length; return }
    for (const r of rows) queue.push(r)
    enforceBound()
    schedule(queue.length >= batchSize ? 0 : flushIntervalMs)
  }

  function schedule(delay: number) {
    if (timer || draining || closed) return
    timer = setTimeout(() => { timer = undefined; void drain() }, Math.max(delay, retryDelay))
    // Node: a pending flush must not keep the process alive on its own.
    ;(timer as { unref?: () => void }).unref?.()
  }

  async function insert(table: Table, rows: (SpanRow | LogRow)[]) {
    const write = () => table === 'spans' ? insertSpans(sql, rows as SpanRow[]) : insertLogs(sql, rows as LogRow[])
    try {
      await write()
    } catch (err) {
      if ((err as { code?: string }).code !== NO_PARTITION) throw err
      const times = rows.map((r) => ('start_time' in r ? r.start_time : r.time).getTime())
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
      await sql`select telemetry.ensure_partitions(${day(Math.min(...times))}::date, ${day(Math.max(...times))}::date)`
      await write()
    }
  }

  async function drainOnce() {
    for (const table of ['spans', 'logs'] as const) {
      const queue: (SpanRow | LogRow)[] = queues[table]
      while (queue.length) {
        const batch = queue.splice(0, batchSize)
        inFlight = batch.length
        try {
          await insert(table, batch)
          stats.written += batch.length
        } catch (err) {
          queue.unshift(...batch)
          throw err
        } finally {
          inFlight = 0
          enforceBound()
        }
      }
    }
  }

  function drain(): Promise<void> {
    if (draining) return draining
    draining = (async () => {
      try {
        await drainOnce()
        retryDelay = 0
      } catch (err) {
        stats.failures++
        retryDelay = Math.min(retryMaxMs, Math.max(retryMinMs, retryDelay * 2))
        onError(err)
      } finally {
        draining = undefined
        if (size() > 0) schedule(0)
      }
    })()
    return draining
  }

  return {
    pushSpans: (rows) => push(queues.spans, rows),
    pushLogs: (rows) => push(queues.logs, rows),
    async flush() {
      if (timer) { clearTimeout(timer); timer = undefined }
      await drain()
    },
    async shutdown() {
      if (timer) { clearTimeout(timer); timer = undefined }
      await drain()
      closed = true
    },
    stats: () => ({ ...stats, queued: size() }),
  }
}
