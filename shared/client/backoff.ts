// Retry policy shared by the chat and embed clients: which answers are worth another attempt and
// how long to wait before it.
import type { RetryReason } from './types.ts'

export const RETRY_DEFAULTS = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 }

/** 4xx answers that the same request can never turn into a success. */
export const NON_RETRYABLE_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422])

/** Why a status is worth retrying, or null when it is not (every 4xx but 408 and 429). */
export function retryReasonOf(status: number): RetryReason | null {
  if (status === 429) return 'status_429'
  if (status === 408) return 'status_408'
  if (status >= 500 && status <= 599) return 'status_5xx'
  return null
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * uniform in [0, min(cap, base·2^attempt)). Spreading retries over the whole window is what keeps
 * a fleet of clients that failed together from coming back together.
 */
export function backoffDelay(attempt: number, o: { baseDelayMs: number; maxDelayMs: number; random: () => number }): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, attempt))
  return Math.floor(o.random() * ceiling)
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as milliseconds from `nowMs`.
 * Null when absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | null {
  if (value == null) return null
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // Only the date forms RFC 9110 allows start with a day name; Date.parse alone accepts "5.5" etc.
  if (!/^[A-Za-z]{3,9},? /.test(v)) return null
  // asctime ("Sun Nov  6 08:49:37 1994") carries no zone; HTTP dates are all GMT, Date.parse
  // would read it as local time.
  const at = Date.parse(v.includes(',') ? v : `${v} GMT`)
  if (Number.isNaN(at)) return null
  return Math.max(0, at - nowMs)
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
