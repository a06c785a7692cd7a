import type { Sql } from 'postgres'
import type { LogRow, SpanRow } from './rows.ts'
import { createHeartbeat } from './heartbeat.ts'
import { createOpenRegistry } from './open-registry.ts'
import { beatAndFindLost, spanKey, writeOpenRows, type Instance, type OpenRow } from './open-rows.ts'
import { createBatchWriter, itemKey, type Item, type Row, type Table } from './writer.ts'

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

// Data exceptions (class 22: bad encoding, out of range, invalid json) and a null where
// the table wants a value (23502) are about a row, not the database: retrying would block
// the queue forever, so the batch is split. A RangeError/TypeError is thrown while
// building the statement or the COPY line from a malformed row.
const isRowError = (err: unknown) => {
  const code = String((err as { code?: string })?.code ?? '')
  return code.startsWith('22') || code === '23502' || err instanceof RangeError || err instanceof TypeError
}

const isMissingTable = (err: unknown) => (err as { code?: string })?.code === '42P01'

/**
 * The one way telemetry reaches Postgres: bounded queues, batches (writer.ts), retry
 * with backoff. push* never blocks and never throws, so a stream cannot be slowed
 * or failed by its own telemetry. Nothing here creates spans: the SDK's processor
 * calls the exporter with tracing suppressed, and the pipeline uses no tracer.
 */
export function createTelemetryPipeline(sql: Sql, options: PipelineOptions = {}): TelemetryPipeline {
  const maxQueue = options.maxQueue ?? 50_000
  const batchSize = options.batchSize ?? 10_000
  const concurrency = Math.max(1, options.concurrency ?? 2)
  const flushIntervalMs = options.flushIntervalMs ?? 250
  const retryMinMs = options.retryMinMs ?? 200
  const retryMaxMs = options.retryMaxMs ?? 10_000
  const dropReportMs = options.dropReportMs ?? 60_000
  const onError = options.onError ?? (() => {})

  const writer = createBatchWriter(sql, options.copy)
  const instance = options.instance
  let recordOpen = instance !== undefined
  const open = createOpenRegistry(onError)
  const heartbeat = createHeartbeat({
    everyMs: options.heartbeatMs ?? (instance ? instance.lostAfterMs / 3 : 0),
    active: open.active,
    beat: () => beat(instance!),
    onError,
  })
  const idleWaiters: (() => void)[] = []
  const queues: Record<Table, Item[]> = { spans: [], logs: [] }
  const stats: Omit<PipelineStats, 'fallbacks'> = { queued: 0, written: 0, dropped: 0, rejected: 0, failures: 0, batches: 0 }
  let timer: ReturnType<typeof setTimeout> | undefined
  let draining: Promise<void> | undefined
  let retryDelay = 0
  let closed = false
  /** When the oldest row not yet taken by a drain was pushed. */
  let pendingSince: number | undefined

  let inFlight = 0
  const size = () => queues.spans.length + queues.logs.length + inFlight
  const snapshot = (): PipelineStats => ({ ...stats, queued: size(), fallbacks: writer.fallbacks })

  // Drop reports: immediately when the window is over, else one timer for its end.
  let reportedDrops = 0
  let lastReport = -Infinity
  let reportTimer: ReturnType<typeof setTimeout> | undefined
  function reportDrops() {
    if (!options.onDrops || reportTimer || stats.dropped === reportedDrops) return
    const wait = lastReport + dropReportMs - Date.now()
    if (wait > 0) {
      reportTimer = setTimeout(() => { reportTimer = undefined; reportDrops() }, wait)
      ;(reportTimer as { unref?: () => void }).unref?.()
      return
    }
    lastReport = Date.now()
    const report = { ...snapshot(), dropped_since_last: stats.dropped - reportedDrops }
    reportedDrops = stats.dropped
    try { options.onDrops(report) } catch { /* a reporter must not break the pipeline */ }
  }

  function drop(n: number) {
    if (n <= 0) return
    stats.dropped += n
    reportDrops()
  }

  function enforceBound() {
    const over = size() - maxQueue
    if (over <= 0) return
    // Drop the oldest: fresh telemetry is worth more to an operator than stale.
    const fromSpans = Math.min(over, queues.spans.length)
    const droppedSpans = queues.spans.splice(0, fromSpans)
    // A dropped request span keeps its open row: it shows as lost once this instance is gone.
    if (open.recorded) open.forget(keysOf(droppedSpans))
    const fromLogs = Math.min(over - fromSpans, queues.logs.length)
    queues.logs.splice(0, fromLogs)
    drop(fromSpans + fromLogs)
  }

  function push(table: Table, rows: Row[]) {
    if (closed) { drop(rows.length); return }
    pendingSince ??= Date.now()
    const queue = queues[table]
    for (const r of rows) {
      if (!writer.encodes) { queue.push(r); continue }
      try {
        queue.push(writer.encode(table, r))
      } catch (err) { // a value JSON cannot hold (a cycle, a BigInt): this row only
        stats.rejected++
        onError(err)
      }
    }
    enforceBound()
    schedule()
  }

  const full = () => queues.spans.length >= batchSize || queues.logs.length >= batchSize

  /**
   * Starts the next drain: at once when a whole batch waits, else when the oldest waiting
   * row is flushIntervalMs old. So a busy process writes a few large batches a second
   * rather than a train of small ones: each transaction and COPY has a fixed cost, and
   * batches of ~70 spans (what chasing every new row gave at 400 streams/s) cost 2-3x
   * more CPU per span than batches of 600, in Node and in Postgres alike.
   */
  function schedule() {
    if (draining || closed) return
    const age = pendingSince === undefined ? 0 : Date.now() - pendingSince
    const delay = Math.max(full() ? 0 : flushIntervalMs - age, retryDelay, 0)
    if (timer) {
      if (delay > 0) return
      clearTimeout(timer) // a whole batch is waiting: don't sit out the interval
    }
    timer = setTimeout(() => { timer = undefined; void drain() }, delay)
    // Node: a pending flush must not keep the process alive on its own.
    ;(timer as { unref?: () => void }).unref?.()
  }

  /** The open rows among these spans' (their span rows supersede them). */
  const keysOf = (rows: Item[]) => {
    const keys: string[] = []
    for (const r of rows) { const key = itemKey(r); if (key !== undefined && open.has(key)) keys.push(key) }
    return keys
  }

  /** Writes a batch; a row the database refuses is isolated by halving and counted, not retried. */
  async function insert(table: Table, rows: Item[]): Promise<void> {
    const supersede = table === 'spans' && open.recorded ? keysOf(rows) : []
    try {
      await writer.write(table, rows, supersede)
      open.forget(supersede)
      stats.written += rows.length
      stats.batches++
    } catch (err) {
      if (supersede.length && isMissingTable(err)) { stopRecordingOpen(); onError(err); return insert(table, rows) }
      if (!isRowError(err)) throw err
      if (rows.length === 1) {
        stats.rejected += 1
        open.forget(supersede)
        onError(err)
        return
      }
      const half = Math.ceil(rows.length / 2)
      await insert(table, rows.slice(0, half))
      await insert(table, rows.slice(half))
    }
  }

  /** The database has no open_requests (the functions deployed before the migration): spans as before. */
  function stopRecordingOpen() {
    recordOpen = false
    open.clear()
  }

  /**
   * Puts the requests still open on record, with the heartbeat. Before any span batch of the
   * drain: a span row's delete of its open row must come after the open row's insert.
   */
  async function writeOpen() {
    if (!instance || !open.pending) return
    const { keys, rows } = open.take()
    if (!rows.length) return
    try {
      await writeOpenRows(sql, instance, rows)
    } catch (err) {
      if (isRowError(err) || isMissingTable(err)) { // not worth blocking the queue for
        open.forget(keys)
        onError(err)
        if (isMissingTable(err)) stopRecordingOpen()
        return
      }
      open.failed(keys)
      throw err
    }
    heartbeat.poke()
  }

  /** The heartbeat; the lost requests of other instances it finds are stored as spans from here. */
  async function beat(me: Instance) {
    const lost = await beatAndFindLost(sql, me)
    const adopted = lost.filter((r) => open.adopt(spanKey(r.trace_id, r.span_id)))
    if (adopted.length) push('spans', adopted)
  }

  /** Writes what is queued; rows that arrive meanwhile wait for the next drain unless they make a whole batch. */
  async function drainOnce() {
    pendingSince = undefined
    await writeOpen()
    for (const table of ['spans', 'logs'] as const) {
      const queue = queues[table]
      for (let first = true; queue.length && (first || queue.length >= batchSize); first = false) {
        const batches: Item[][] = []
        while (batches.length < concurrency && queue.length) batches.push(queue.splice(0, batchSize))
        const rows = batches.reduce((n, b) => n + b.length, 0)
        inFlight += rows
        const results = await Promise.allSettled(batches.map((b) => insert(table, b)))
        inFlight -= rows
        // Failed batches go back to the front, in their order, for the retry.
        const failed = batches.filter((_, i) => results[i].status === 'rejected')
        if (failed.length) {
          queue.unshift(...failed.flat())
          pendingSince = 0 // overdue: only the retry delay holds them back
        }
        enforceBound()
        const error = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
        if (error) throw error.reason
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
        // The retry is timer work: on Supabase the isolate is held for it (see PipelineOptions).
        if (options.waitUntil && !closed) options.waitUntil(idle())
      } finally {
        draining = undefined
        if (size() === 0 && !open.pending) {
          pendingSince = undefined // rows pushed meanwhile were taken too
          for (const resolve of idleWaiters.splice(0)) resolve()
        } else schedule()
      }
    })()
    return draining
  }

  async function flush() {
    if (timer) { clearTimeout(timer); timer = undefined }
    // A drain already under way may have passed the rows pushed since: run one more
    // unless the database is failing (then the retry schedule owns them).
    await drain()
    if (queues.spans.length + queues.logs.length > 0 && retryDelay === 0) await drain()
  }

  /** Resolves once nothing waits: at once if nothing does, else after the drain that empties the queue. */
  function idle(): Promise<void> {
    if (closed || (size() === 0 && !open.pending && !draining)) return Promise.resolve()
    return new Promise((resolve) => idleWaiters.push(resolve))
  }

  return {
    pushSpans: (rows) => push('spans', rows),
    opened(traceId, spanId, row) {
      if (!recordOpen || closed) return
      open.opened(spanKey(traceId, spanId), row)
      pendingSince ??= Date.now()
      schedule()
    },
    closed: (traceId, spanId) => open.closed(spanKey(traceId, spanId)),
    idle,
    pushLogs: (rows) => push('logs', rows),
    flush,
    async shutdown() {
      await flush()
      closed = true
      heartbeat.stop()
      for (const resolve of idleWaiters.splice(0)) resolve()
      if (reportTimer) { clearTimeout(reportTimer); reportTimer = undefined }
    },
    stats: snapshot,
  }
}
