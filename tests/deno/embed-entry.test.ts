// The embed entry file under real Deno: the same handler the Node server runs, storing
// embeddings in the test Postgres through postgres.js with prepared statements off
// (as through Supabase's pooler).
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { until } from '../support/wait.ts'
import { startDenoEntry, type DenoEntry } from '../support/deno.ts'

const SECRET = 'deno-secret-that-is-at-least-32-characters'
let db: TestDatabase
let deno: DenoEntry
let url: string

beforeAll(async () => {
  db = await freshDatabase()
  deno = await startDenoEntry('supabase/functions/embed/index.ts', { DATABASE_URL: db.url, JWT_SECRET: SECRET, EMBED_DIMENSION: '32', EMBED_BATCH_SIZE: '2' })
  url = deno.url
}, 90_000)

afterAll(async () => {
  deno?.stop()
  await db?.drop()
})

it('embeds a document and stores its chunks and spans', async () => {
  const user = '7c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f'
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signUserToken(SECRET, user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: ['first text', 'second text', 'third text'], metadata: { from: 'deno' } }),
  })
  expect(res.status).toBe(200)
  const body = await res.json()
  const traceId = res.headers.get('x-trace-id')!
  expect(body).toMatchObject({ trace_id: traceId, ids: [expect.any(String), expect.any(String), expect.any(String)], dimension: 32 })
  const rows = await db.sql`select user_id, chunk_index, content, metadata, dimension as dims
                            from document_embeddings where document_id = ${body.document_id} order by chunk_index`
  expect(rows.map((r) => [r.user_id, r.chunk_index, r.content, r.metadata, r.dims])).toEqual([
    [user, 0, 'first text', { from: 'deno' }, 32], [user, 1, 'second text', { from: 'deno' }, 32], [user, 2, 'third text', { from: 'deno' }, 32],
  ])
  const expected = ['POST /functions/v1/embed', 'insert document_embeddings', 'rate_limit check']
  const spanNames = async () => (await db.sql`select name from telemetry.spans where trace_id = ${traceId}`).map((r) => r.name as string)
  await until(async () => { const n = await spanNames(); return expected.every((e) => n.includes(e)) && n.filter((x) => x.startsWith('embeddings ')).length >= 2 }, 'the spans').catch(() => {})
  const names = await spanNames()
  expect(names.filter((n) => n === 'embeddings local-hash-384')).toHaveLength(2)
  expect(names).toEqual(expect.arrayContaining(['POST /functions/v1/embed', 'insert document_embeddings', 'rate_limit check']))
})

it('answers bad input with the same JSON errors as on Node', async () => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  expect(res.status).toBe(401)
  expect((await res.json()).error.code).toBe('unauthorized')
})
