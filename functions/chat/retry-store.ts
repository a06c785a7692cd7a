// The answer has already streamed to the user when it is stored: a database that is away for a
// few seconds (a restart, a failover) must delay that write, not lose it. The stream holds its
// terminal frame meanwhile (heartbeats go on), so the client's `chat.done` names a stored message.

/** SQLSTATE classes a retry cannot fix: data (22), integrity (23), syntax or privilege (42). */
const PERMANENT = /^(22|23|42)/

export interface RetryStoreOptions {
  /** Give up once the next attempt would start later than this after the first (ms). */
  withinMs: number
  onRetry?(err: unknown, attempt: number, delayMs: number): void
  sleep?(ms: number): Promise<void>
  now?(): number
}

/** Runs `write` until it succeeds, a permanent error, or `withinMs`; backoff 100 ms doubling to 2 s. */
export async function retryStore<T>(write: () => Promise<T>, o: RetryStoreOptions): Promise<T> {
  const now = o.now ?? (() => performance.now())
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const until = now() + o.withinMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await write()
    } catch (err) {
      const delay = Math.min(2_000, 100 * 2 ** (attempt - 1))
      if (PERMANENT.test(String((err as { code?: unknown })?.code ?? '')) || now() + delay > until) throw err
      o.onRetry?.(err, attempt, delay)
      await sleep(delay)
    }
  }
}
