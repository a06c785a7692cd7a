// Failed sign-ins counted in Postgres (migrations/20261206000500_signin_failures.sql), so that
// every dashboard process on one database enforces the same limit.
import type { Refusal } from './throttle.ts'
import type { Db } from './rollups.ts'

export interface SigninLimits { perAddress: number; global: number; windowSeconds: number }

/** Counts a failure from `address`; its failures in the current window. */
export async function noteSigninFailure(sql: Db, address: string, windowSeconds: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select telemetry.note_signin_failure(${address}, ${windowSeconds}) as n`
  return row!.n
}

/** The refusal for an attempt from `address`, or null when it may go ahead. */
export async function signinRefusal(sql: Db, address: string, l: SigninLimits): Promise<Refusal | null> {
  const [row] = await sql<{ scope: Refusal['scope']; retry_after_seconds: number }[]>`
    select scope, retry_after_seconds from telemetry.signin_refusal(${address}, ${l.perAddress}, ${l.global}, ${l.windowSeconds})`
  return row ? { scope: row.scope, retryAfterSeconds: row.retry_after_seconds } : null
}
