// The frame log's SQL on a real PostgreSQL: many streams' batches go in few statements, and each
// stream reads back exactly its own deltas.
import { randomUUID } from 'node:crypto'
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { createStreamLogStore } from './stream-log-store.ts'

let db: TestDatabase
let sql: Sql
const statements: string[] = []

beforeAll(async () => {
  db = await freshDatabase()
  sql = postgres(db.url, { max: 1, onnotice: () => {}, debug: (_c, query) => { statements.push(query) } })
  await sql`select 1` // the connection and the driver's type lookup, before anything is counted
})
afterAll(async () => { await sql?.end({ timeout: 1 }); await db?.drop() })

async function liveStream(): Promise<string> {
  const id = randomUUID()
  await db.sql`insert into public.chat_streams (stream_id, user_id, session_id, trace_id, span_id, model)
    values (${id}, ${randomUUID()}, ${randomUUID()}, ${'a'.repeat(32)}, ${'b'.repeat(16)}, 'sim-1')`
  return id
}

it('writes the batches of many streams in few statements, each stream’s deltas its own', async () => {
  const store = createStreamLogStore(sql, { retentionSeconds: 120, deadSeconds: 10 })
  const ids = await Promise.all(Array.from({ length: 40 }, liveStream))
  statements.length = 0
  await Promise.all(ids.map((id, i) => store.write(id, { firstSeq: 1, deltas: [`a${i}`, `b${i}`], lastSeq: 2 })))
  await Promise.all(ids.map((id, i) => store.write(id, { firstSeq: 3, deltas: [`c${i}`], lastSeq: 3 })))
  expect(statements).toHaveLength(2)
  for (const [i, id] of ids.entries()) {
    const state = await store.follow(id, 0)
    expect(state?.last_seq).toBe(3)
    expect(state?.batches).toEqual([[1, [`a${i}`, `b${i}`]], [3, [`c${i}`]]])
  }
})

it('skips a batch whose stream is gone, and replaces a batch written again with more', async () => {
  const store = createStreamLogStore(sql, { retentionSeconds: 120, deadSeconds: 10 })
  const id = await liveStream()
  await Promise.all([
    store.write(randomUUID(), { firstSeq: 1, deltas: ['lost'], lastSeq: 1 }),
    store.write(id, { firstSeq: 1, deltas: ['x'], lastSeq: 1 }),
  ])
  // The same first seq again, as after a write whose outcome was unknown: the longer batch wins.
  await store.write(id, { firstSeq: 1, deltas: ['x', 'y'], lastSeq: 2 })
  const state = await store.follow(id, 0)
  expect(state?.batches).toEqual([[1, ['x', 'y']]])
  expect(state?.last_seq).toBe(2)
})

it('beats a live stream with an empty batch and ends it with its final frame', async () => {
  const store = createStreamLogStore(sql, { retentionSeconds: 120, deadSeconds: 10 })
  const id = await liveStream()
  await db.sql`update public.chat_streams set beat_at = '2000-01-01Z' where stream_id = ${id}`
  await store.write(id, { firstSeq: 1, deltas: [], lastSeq: 0 })
  const [{ beaten }] = await db.sql<{ beaten: boolean }[]>`select beat_at > '2000-01-01Z' as beaten from public.chat_streams where stream_id = ${id}`
  expect(beaten).toBe(true)
  await store.write(id, { firstSeq: 1, deltas: ['z'], lastSeq: 1, end: { status: 'complete', terminal: 'event: chat.done\n\n' } })
  const state = await store.follow(id, 0)
  expect(state).toMatchObject({ status: 'complete', terminal: 'event: chat.done\n\n', last_seq: 1, batches: [[1, ['z']]] })
})
