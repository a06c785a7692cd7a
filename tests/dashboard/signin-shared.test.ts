// Failed sign-ins are counted in Postgres: two dashboard processes on one database enforce one
// limit, so a second process does not give a guesser a fresh allowance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { OPERATOR, SECRET } from './support.ts'

let db: TestDatabase
let a: RunningServer
let b: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  const env = { DATABASE_URL: db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR, OPERATOR_SIGNIN_FAILURES_PER_ADDRESS: '3' }
  ;[a, b] = await Promise.all([startServer(env), startServer(env)])
}, 120_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await db?.drop()
})

const bearer = (server: RunningServer, token: string) =>
  fetch(`${server.baseUrl}/api/overview`, { headers: { authorization: `Bearer ${token}` } })

describe('failed sign-ins across dashboard processes', () => {
  it('refuses at the second process once the first has seen the address fail too often', async () => {
    expect((await bearer(b, OPERATOR)).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await bearer(a, `wrong-${i}`)).status).toBe(401)
    const refused = await bearer(b, OPERATOR)
    expect(refused.status).toBe(429)
    expect((await refused.json()).error.code).toBe('rate_limited')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    const [row] = await db.sql`select failures from telemetry.signin_failures where key <> '*'`
    expect(row?.failures).toBe(3)
  })
})
