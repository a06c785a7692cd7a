import type { BatchWriter, Item, Row, Table } from './writer.ts'

export const TABLES = ['spans', 'logs'] as const satisfies readonly Table[]

export interface RowQueuesOptions {
  /** Most rows held, the batches being written included; beyond it the oldest are dropped. */
  maxQueue: number
  batchSize: number
  /** Rows are encoded when queued once the writer knows COPY works. */
  writer: Pick<BatchWriter, 'encodes' | 'encode'>
  /** A row that cannot be encoded (a value JSON cannot hold): it alone is left out. */
  onRejected(err: unknown): void
}

/** The rows waiting for the database, per table, bounded; rows taken for a write count until settled. */
export function createRowQueues(o: RowQueuesOptions) {
  const queues: Record<Table, Item[]> = { spans: [], logs: [] }
  let inFlight = 0
  const waiting = () => queues.spans.length + queues.logs.length

  return {
    /** Rows waiting, the batches being written included. */
    size: () => waiting() + inFlight,
    /** Rows not yet taken by a write. */
    waiting,
    length: (table: Table) => queues[table].length,
    /** A whole batch waits in `table` (or in any table). */
    full: (table?: Table) => table ? queues[table].length >= o.batchSize : queues.spans.length >= o.batchSize || queues.logs.length >= o.batchSize,

    push(table: Table, rows: Row[]) {
      const queue = queues[table]
      for (const r of rows) {
        if (!o.writer.encodes) { queue.push(r); continue }
        try {
          queue.push(o.writer.encode(table, r))
        } catch (err) {
          o.onRejected(err)
        }
      }
    },

    /** Up to `count` batches from the front of `table`; in flight until `settle`. */
    take(table: Table, count: number): Item[][] {
      const queue = queues[table]
      const batches: Item[][] = []
      while (batches.length < count && queue.length) batches.push(queue.splice(0, o.batchSize))
      for (const b of batches) inFlight += b.length
      return batches
    },

    /** The taken batches are done; the failed ones go back to the front, in their order, for the retry. */
    settle(table: Table, taken: Item[][], failed: Item[][]) {
      for (const b of taken) inFlight -= b.length
      if (failed.length) queues[table].unshift(...failed.flat())
    },

    /** Drops the oldest rows over the bound, spans first: fresh telemetry is worth more to an operator than stale. */
    enforceBound(): { spans: Item[]; count: number } {
      const over = waiting() + inFlight - o.maxQueue
      if (over <= 0) return { spans: [], count: 0 }
      const spans = queues.spans.splice(0, Math.min(over, queues.spans.length))
      const logs = queues.logs.splice(0, Math.min(over - spans.length, queues.logs.length))
      return { spans, count: spans.length + logs.length }
    },
  }
}

export type RowQueues = ReturnType<typeof createRowQueues>

/**
 * Writes what is queued, table by table, up to `concurrency` batches at once; rows that arrive
 * meanwhile wait for the next drain unless they make a whole batch. Throws the first failure
 * once its round is settled (the failed batches are back in the queue).
 */
export async function writeQueues(q: RowQueues, o: {
  concurrency: number
  insert(table: Table, rows: Item[]): Promise<void>
  /** Some batches failed: they are due at once, held back only by the retry delay. */
  overdue(): void
  /** After each round: the queue may be over its bound again. */
  bound(): void
}): Promise<void> {
  for (const table of TABLES) {
    for (let first = true; q.length(table) && (first || q.full(table)); first = false) {
      const batches = q.take(table, o.concurrency)
      const results = await Promise.allSettled(batches.map((b) => o.insert(table, b)))
      const failed = batches.filter((_, i) => results[i].status === 'rejected')
      q.settle(table, batches, failed)
      if (failed.length) o.overdue()
      o.bound()
      const error = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (error) throw error.reason
    }
  }
}
