import type { OpenRegistry } from './open-registry.ts'
import { itemKey, type BatchWriter, type Item, type Table } from './writer.ts'

// Data exceptions (class 22: bad encoding, out of range, invalid json) and a null where
// the table wants a value (23502) are about a row, not the database: retrying would block
// the queue forever, so the batch is split. A RangeError/TypeError is thrown while
// building the statement or the COPY line from a malformed row.
export const isRowError = (err: unknown) => {
  const code = String((err as { code?: string })?.code ?? '')
  return code.startsWith('22') || code === '23502' || err instanceof RangeError || err instanceof TypeError
}

export const isMissingTable = (err: unknown) => (err as { code?: string })?.code === '42P01'

/** The open rows among these spans' (their span rows supersede them). */
export function openKeysOf(open: Pick<OpenRegistry, 'has'>, rows: Item[]): string[] {
  const keys: string[] = []
  for (const r of rows) { const key = itemKey(r); if (key !== undefined && open.has(key)) keys.push(key) }
  return keys
}

export interface BatchInsertOptions {
  writer: Pick<BatchWriter, 'write'>
  open: Pick<OpenRegistry, 'has' | 'recorded' | 'forget'>
  /** Counted here: rows written, batches written, rows the database refused. */
  stats: { written: number; batches: number; rejected: number }
  onError(err: unknown): void
  /** The database has no open_requests (the functions deployed before the migration). */
  onNoOpenTable(): void
}

/**
 * Writes a batch, deleting the open rows its request spans supersede. A row the database
 * refuses is isolated by halving the batch and counted, never retried; any other failure is
 * thrown for the caller to retry.
 */
export function createBatchInsert(o: BatchInsertOptions) {
  return async function insert(table: Table, rows: Item[]): Promise<void> {
    const supersede = table === 'spans' && o.open.recorded ? openKeysOf(o.open, rows) : []
    try {
      await o.writer.write(table, rows, supersede)
      o.open.forget(supersede)
      o.stats.written += rows.length
      o.stats.batches++
    } catch (err) {
      if (supersede.length && isMissingTable(err)) { o.onNoOpenTable(); o.onError(err); return insert(table, rows) }
      if (!isRowError(err)) throw err
      if (rows.length === 1) {
        o.stats.rejected += 1
        o.open.forget(supersede)
        o.onError(err)
        return
      }
      const half = Math.ceil(rows.length / 2)
      await insert(table, rows.slice(0, half))
      await insert(table, rows.slice(half))
    }
  }
}
