// Under real Deno, a rejection nobody handled is logged to the telemetry tables and the isolate
// keeps serving: without the entry's listener, Deno ends the process (and every stream in it).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PROCESS_FAULT_MESSAGE } from '../../shared/telemetry/faults.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startDenoEntry, type DenoEntry } from '../support/deno.ts'

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
  let rows: { attributes: { error?: string } }[] = []
  for (let i = 0; i < 100 && !rows.length; i++) {
    await new Promise((r) => setTimeout(r, 100))
    rows = await db.sql`select attributes from telemetry.logs where message = ${PROCESS_FAULT_MESSAGE}`
  }
  expect(rows.map((r) => r.attributes.error)).toEqual(['planted fault'])
  const res = await fetch(deno.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(401)
}, 60_000)
