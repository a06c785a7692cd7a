import type { Sql } from 'postgres'

export interface FlagReader {
  /** The flag's value, at most `ttlMs` old; `fallback` when it is unset or cannot be read. */
  get(key: string, fallback: string): Promise<string>
}

interface Cached { value: string | undefined; at: number }

/**
 * Reads public.feature_flags with a short in-process cache, so a flag costs one query
 * per key per `ttlMs` per isolate rather than one per request, and a flip from the
 * dashboard is seen within `ttlMs`. Concurrent misses share one query. When the
 * database cannot be read the last known value is kept (never an error for the caller).
 */
export function createFlagReader(sql: Sql, ttlMs: number, onError: (err: unknown) => void = () => {}): FlagReader {
  const cache = new Map<string, Cached>()
  const inflight = new Map<string, Promise<string | undefined>>()

  async function load(key: string): Promise<string | undefined> {
    try {
      const [row] = await sql<{ value: string }[]>`select value from public.feature_flags where key = ${key}`
      cache.set(key, { value: row?.value, at: performance.now() })
      return row?.value
    } catch (err) {
      onError(err)
      const stale = cache.get(key)
      // Retry after another ttl, not on every request while the database is down.
      cache.set(key, { value: stale?.value, at: performance.now() })
      return stale?.value
    } finally {
      inflight.delete(key)
    }
  }

  return {
    async get(key, fallback) {
      const hit = cache.get(key)
      if (hit && performance.now() - hit.at < ttlMs) return hit.value ?? fallback
      let pending = inflight.get(key)
      if (!pending) inflight.set(key, pending = load(key))
      return (await pending) ?? fallback
    },
  }
}
