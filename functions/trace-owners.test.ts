import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../tests/support/db.ts'
import { createTraceOwners } from './trace-owners.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const traceId = () => crypto.randomUUID().replaceAll('-', '')

describe('trace owners', () => {
  it('binds a trace to its first user and says so to everyone after', async () => {
    const owners = createTraceOwners(db.sql)
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()]
    const t = traceId()
    expect(await owners.claim(t, a)).toBe(true)
    expect(await owners.claim(t, a)).toBe(true)
    expect(await owners.claim(t, b)).toBe(false)
    expect(await owners.claim(t, a.toUpperCase())).toBe(true) // a UUID, however it is spelled
  })

  it('gives a racing trace id to exactly one of the users', async () => {
    const owners = createTraceOwners(db.sql)
    const t = traceId()
    const users = Array.from({ length: 20 }, () => crypto.randomUUID())
    const mine = await Promise.all(users.map((u) => owners.claim(t, u)))
    expect(mine.filter(Boolean)).toHaveLength(1)
    const [row] = await db.sql`select user_id::text as user_id from public.trace_owners where trace_id = ${t}`
    expect(row.user_id).toBe(users[mine.indexOf(true)])
  })

  it('refuses what is not a trace id', async () => {
    await expect(createTraceOwners(db.sql).claim('nope', crypto.randomUUID())).rejects.toThrow(/trace_owners_trace_id/)
  })
})
