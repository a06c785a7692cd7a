import type { OpenRow } from './open-rows.ts'

/**
 * Which requests this process has on record, for the pipeline (see open-rows.ts). A request is
 * `pending` from its start until a batch takes its row; a request that ends before that never
 * gets one (most do: a rejected request, a short answer). A row taken for writing is
 * `recorded` — maybe in the database, since a write whose outcome is unknown may have
 * committed — until the transaction that writes its span row deletes it (`superseded`).
 */
export function createOpenRegistry(onError: (err: unknown) => void) {
  const pending = new Map<string, () => OpenRow>()
  const live = new Map<string, () => OpenRow>()
  const recorded = new Set<string>()

  return {
    opened(key: string, row: () => OpenRow) { live.set(key, row); pending.set(key, row) },
    closed(key: string) { live.delete(key); pending.delete(key) },
    get pending() { return pending.size },
    get recorded() { return recorded.size },
    /** Something here needs the heartbeat: rows to write, or rows in the database not yet superseded. */
    active: () => pending.size > 0 || recorded.size > 0,

    /** The pending rows, as they are now; their keys count as recorded from here on. */
    take(): { keys: string[]; rows: OpenRow[] } {
      const keys: string[] = []
      const rows: OpenRow[] = []
      for (const [key, row] of pending) {
        try { rows.push(row()); keys.push(key); recorded.add(key) } catch (err) { onError(err) }
      }
      pending.clear()
      return { keys, rows }
    },
    /** A write of taken rows failed: those still open are pending again (written with on conflict do nothing). */
    failed(keys: string[]) {
      for (const key of keys) { const row = live.get(key); if (row) pending.set(key, row) }
    },
    /** A lost request of another instance this pipeline will store as a span; false if it already is. */
    adopt(key: string): boolean {
      if (recorded.has(key)) return false
      recorded.add(key)
      return true
    },
    has: (key: string) => recorded.has(key),
    /** Nothing is on record any more (the database has no open_requests). */
    clear() { pending.clear(); live.clear(); recorded.clear() },
    /** Their span rows are written (or given up on): nothing left to delete. */
    forget(keys: Iterable<string>) { for (const key of keys) recorded.delete(key) },
  }
}

export type OpenRegistry = ReturnType<typeof createOpenRegistry>
