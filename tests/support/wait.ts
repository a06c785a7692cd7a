// Waiting for a condition instead of for a time: a loaded machine makes a test slower, never
// wrong. The timeout is a safety net that turns a hang into a message, not the assertion.
//
// The real timers are taken when this module loads, before any test installs fake ones, so
// these waits keep working (and keep the fake clock still) under vi.useFakeTimers.
const realSetTimeout = globalThis.setTimeout
const realNow = performance.now.bind(performance)

/** Generous on purpose: slowness is expected, a hang is not. Below vitest's testTimeout (30 s). */
export const SAFETY_NET_MS = 20_000

/** One turn of the real event loop (timers, I/O), whatever the test has faked. */
export const pause = (ms = 5) => new Promise<void>((resolve) => realSetTimeout(resolve, ms))

/**
 * Polls `check` until it returns something other than undefined, null or false, and returns it;
 * throws naming `what` once `timeoutMs` have passed without that.
 */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = SAFETY_NET_MS): Promise<Exclude<T, undefined | null | false>> {
  const end = realNow() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>
    if (realNow() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await pause(10)
  }
}

/**
 * Waits, if need be, for the next clock minute, so that at least `ms` of the current one are
 * left: the steps of a test that must share one minute (a per-minute rate limit counts in
 * `date_trunc('minute', now())`) then do, unless they take longer than `ms` together.
 */
export async function minuteWithRoom(ms = 10_000): Promise<void> {
  const left = () => 60_000 - (Date.now() % 60_000)
  if (left() < ms) await pause(left() + 50)
}
