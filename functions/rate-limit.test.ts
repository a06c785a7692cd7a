import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../tests/support/db.ts'
import { createRateLimiter } from './rate-limit.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

describe('rate limiter (public.check_rate_limit)', () => {
  it('admits exactly K of N concurrent requests from one user', async () => {
    const user = crypto.randomUUID()
    const limiter = createRateLimiter(db.sql, { requestsPerMinute: 7, tokensPerMinute: 0 })
    const decisions = await Promise.all(Array.from({ length: 25 }, () => limiter.check(user, 10)))
    expect(decisions.filter((d) => d.allowed)).toHaveLength(7)
    const refused = decisions.filter((d) => !d.allowed)
    expect(refused.every((d) => d.exceeded === 'requests')).toBe(true)
    expect(refused.every((d) => d.retryAfterSeconds >= 1 && d.retryAfterSeconds <= 60)).toBe(true)
    const [row] = await db.sql`select requests, tokens from public.rate_limits where user_id = ${user}`
    expect(row).toEqual({ requests: 7, tokens: '70' })
  })

  it('counts tokens, refuses what would pass the limit, and settles to the real usage', async () => {
    const user = crypto.randomUUID()
    const limiter = createRateLimiter(db.sql, { requestsPerMinute: 0, tokensPerMinute: 100 })
    const a = await limiter.check(user, 60)
    expect(a.allowed).toBe(true)
    const b = await limiter.check(user, 60)
    expect(b).toMatchObject({ allowed: false, exceeded: 'tokens', tokens: 60 })
    // The first request really used 20 tokens: 40 are given back.
    await limiter.settle(user, a.windowStart, -40)
    expect(await limiter.check(user, 60)).toMatchObject({ allowed: true, tokens: 80 })
  })

  it('keeps users apart and does nothing when both limits are 0', async () => {
    const limiter = createRateLimiter(db.sql, { requestsPerMinute: 1, tokensPerMinute: 0 })
    const [u1, u2] = [crypto.randomUUID(), crypto.randomUUID()]
    expect((await limiter.check(u1, 1)).allowed).toBe(true)
    expect((await limiter.check(u2, 1)).allowed).toBe(true)
    expect((await limiter.check(u1, 1)).allowed).toBe(false)
    const off = createRateLimiter(db.sql, { requestsPerMinute: 0, tokensPerMinute: 0 })
    const u3 = crypto.randomUUID()
    expect((await off.check(u3, 1)).allowed).toBe(true)
    expect(await db.sql`select 1 from public.rate_limits where user_id = ${u3}`).toHaveLength(0)
  })

  it('drops a user\'s older windows when their new minute starts', async () => {
    const user = crypto.randomUUID()
    await db.sql`insert into public.rate_limits (user_id, window_start, requests, tokens) values (${user}, now() - interval '5 minutes', 3, 30)`
    await createRateLimiter(db.sql, { requestsPerMinute: 5, tokensPerMinute: 0 }).check(user, 1)
    const rows = await db.sql`select requests from public.rate_limits where user_id = ${user}`
    expect(rows).toEqual([{ requests: 1 }])
  })

  it('is invisible to clients', async () => {
    const as = (role: string, query: string) => db.sql.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`)
      await tx.unsafe(query)
    })
    for (const role of ['anon', 'authenticated']) {
      await expect(as(role, 'select * from public.rate_limits')).rejects.toThrow(/permission denied/)
      await expect(as(role, 'select public.check_rate_limit(gen_random_uuid(), 1, 1, 1)')).rejects.toThrow(/permission denied/)
      await expect(as(role, `select public.settle_rate_limit(gen_random_uuid(), now(), 1)`)).rejects.toThrow(/permission denied/)
    }
  })
})
