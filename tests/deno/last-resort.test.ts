// Under real Deno, a rejection nobody handled is logged to the telemetry tables and the isolate
// keeps serving: without the entry's listener, Deno ends the process (and every stream in it).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PROCESS_FAULT_MESSAGE } from '../../shared/telemetry/faults.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startDenoEntry, type DenoEntry } from '../support/deno.ts'
import { until } from '../support/wait.ts'

let db: TestDatabase
let deno: DenoEntry

beforeAll(async () => {
  db = await freshDatabase()
  deno = await startDenoEntry('tests/deno/fault-entry.ts', { DATABASE_URL: db.url, JWT_SECRET: 'deno-fault-secret-that-is-at-least-32-chars' })
}, 90_000)

afterAll(async () => {
  deno?.stop()
  await db?.drop()
})

it('logs the fault and keeps answering', async () => {
  const rows = await until(async () => {
    const found = await db.sql<{ attributes: { error?: string } }[]>`select attributes from telemetry.logs where message = ${PROCESS_FAULT_MESSAGE}`
    return found.length > 0 && found
  }, 'the fault to be logged')
  expect(rows.map((r) => r.attributes.error)).toEqual(['planted fault'])
  const res = await fetch(deno.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(401)
})
