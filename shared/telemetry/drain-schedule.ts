export interface DrainScheduleOptions {
  /** How long a row may wait before a drain is started. */
  flushIntervalMs: number
  /** First and longest wait between retries while drains fail. */
  retryMinMs: number
  retryMaxMs: number
  /** One drain: writes what is queued; throws when the database failed (the rows stay queued). */
  run(): Promise<void>
  /** A whole batch waits. */
  full(): boolean
  /** Nothing is queued, being written or waiting to go on record. */
  empty(): boolean
  /** Rows queued and not yet taken by a drain. */
  waiting(): number
  /** A drain failed (before its retry is scheduled). */
  onFailure(err: unknown): void
  /** Handed the wait for the queue to be written whenever a retry is scheduled (Supabase: keeps the isolate). */
  waitUntil?: (work: Promise<unknown>) => void
}

/** The next drain's delay: the flush interval counted from the oldest waiting row, none for a whole batch, never under the retry delay. */
export function toDrainDelay(o: { full: boolean; ageMs: number; flushIntervalMs: number; retryDelayMs: number }): number {
  return Math.max(o.full ? 0 : o.flushIntervalMs - o.ageMs, o.retryDelayMs, 0)
}

/** The wait before the next retry after a failure: doubled each time, within [min, max]. */
export const toRetryDelay = (previousMs: number, minMs: number, maxMs: number) => Math.min(maxMs, Math.max(minMs, previousMs * 2))

/**
 * When the queue is written: one drain at a time, started at once when a whole batch waits,
 * else when the oldest waiting row is flushIntervalMs old. So a busy process writes a few large
 * batches a second rather than a train of small ones: each transaction and COPY has a fixed
 * cost, and small batches cost several times more CPU per span than large ones, in Node and in
 * Postgres alike. A failed drain is retried with backoff.
 */
export function createDrainSchedule(o: DrainScheduleOptions) {
  const idleWaiters: (() => void)[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  let draining: Promise<void> | undefined
  let retryDelay = 0
  let closed = false
  /** When the oldest row not yet taken by a drain was queued. */
  let pendingSince: number | undefined

  function schedule() {
    if (draining || closed) return
    const ageMs = pendingSince === undefined ? 0 : Date.now() - pendingSince
    const delay = toDrainDelay({ full: o.full(), ageMs, flushIntervalMs: o.flushIntervalMs, retryDelayMs: retryDelay })
    if (timer) {
      if (delay > 0) return
      clearTimeout(timer) // a whole batch is waiting: don't sit out the interval
    }
    timer = setTimeout(() => { timer = undefined; void drain() }, delay)
    // Node: a pending flush must not keep the process alive on its own.
    ;(timer as { unref?: () => void }).unref?.()
  }

  function drain(): Promise<void> {
    if (draining) return draining
    draining = (async () => {
      try {
        pendingSince = undefined
        await o.run()
        retryDelay = 0
      } catch (err) {
        retryDelay = toRetryDelay(retryDelay, o.retryMinMs, o.retryMaxMs)
        o.onFailure(err)
        // The retry is timer work: on Supabase the isolate is held for it.
        if (o.waitUntil && !closed) o.waitUntil(idle())
      } finally {
        draining = undefined
        if (o.empty()) {
          pendingSince = undefined // rows queued meanwhile were taken too
          for (const resolve of idleWaiters.splice(0)) resolve()
        } else schedule()
      }
    })()
    return draining
  }

  /** Resolves once nothing waits: at once if nothing does, else after the drain that empties the queue. */
  function idle(): Promise<void> {
    if (closed || (o.empty() && !draining)) return Promise.resolve()
    return new Promise((resolve) => idleWaiters.push(resolve))
  }

  return {
    /** Something was queued: the interval counts from the oldest such row. */
    queued() { pendingSince ??= Date.now() },
    /** Rows are due at once (failed batches back in the queue): only the retry delay holds them back. */
    overdue() { pendingSince = 0 },
    schedule,
    drain,
    idle,
    /** Resolves when everything queued before the call is written (or given up on for now). */
    async flush() {
      if (timer) { clearTimeout(timer); timer = undefined }
      // A drain already under way may have passed the rows queued since: run one more
      // unless the database is failing (then the retry schedule owns them).
      await drain()
      if (o.waiting() > 0 && retryDelay === 0) await drain()
    },
    get closed() { return closed },
    /** No drain is scheduled from here on; whoever waits for idle is let go. */
    close() {
      closed = true
      for (const resolve of idleWaiters.splice(0)) resolve()
    },
  }
}

export type DrainSchedule = ReturnType<typeof createDrainSchedule>
