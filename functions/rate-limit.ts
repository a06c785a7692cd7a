import type { Sql } from 'postgres'
import type { RateLimitConfig } from '../shared/config.ts'

export interface RateDecision {
  allowed: boolean
  /** Which limit refused the request. */
  exceeded?: 'requests' | 'tokens'
  /** Seconds until the minute window resets (0 when allowed). */
  retryAfterSeconds: number
  /** The window the request was counted in: settle() corrects that one. */
  windowStart: Date
  requests: number
  tokens: number
}

interface Row {
  allowed: boolean
  exceeded: 'requests' | 'tokens' | null
  requests: number
  tokens: string
  window_start: Date
  retry_after_seconds: number
}

/**
 * Per-user limits kept in Postgres (public.check_rate_limit): one statement checks and
 * counts, so the limit holds across isolates and concurrent requests. With both limits
 * at 0 nothing is queried.
 */
export function createRateLimiter(sql: Sql, limits: RateLimitConfig) {
  const enabled = limits.requestsPerMinute > 0 || limits.tokensPerMinute > 0
  return {
    enabled,
    limits,
    async check(userId: string, estimatedTokens: number): Promise<RateDecision> {
      if (!enabled) return { allowed: true, retryAfterSeconds: 0, windowStart: new Date(), requests: 0, tokens: 0 }
      const [row] = await sql<Row[]>`
        select * from public.check_rate_limit(${userId}, ${limits.requestsPerMinute}, ${limits.tokensPerMinute}, ${Math.max(0, Math.round(estimatedTokens))})`
      return {
        allowed: row.allowed,
        ...(row.exceeded ? { exceeded: row.exceeded } : {}),
        retryAfterSeconds: row.retry_after_seconds,
        windowStart: row.window_start,
        requests: row.requests,
        tokens: Number(row.tokens),
      }
    },
    /** Replaces the estimate counted by check() with the tokens really used. */
    async settle(userId: string, windowStart: Date, tokenDelta: number): Promise<void> {
      if (!enabled || limits.tokensPerMinute <= 0 || tokenDelta === 0) return
      await sql`select public.settle_rate_limit(${userId}, ${windowStart}, ${Math.round(tokenDelta)})`
    },
  }
}

export type RateLimiter = ReturnType<typeof createRateLimiter>
