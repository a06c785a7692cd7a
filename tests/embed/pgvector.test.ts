// The pgvector build of the schema, as on Supabase: PGlite with the vector extension,
// every migration applied, the embed handler writing `vector` columns, and
// match_documents ranking with <=> under RLS. (The test cluster, Debian's PostgreSQL
// 15, has no pgvector: there the same code writes real[]; see tests/sql.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { detectEmbeddingColumn } from '../../functions/embed/store.ts'
import { toLocalVector } from '../../functions/providers/local-embedder.ts'
import { readMigrations } from '../../server/migrations.ts'
import { migrate } from '../../shared/db/migrate.ts'
import { openPglite, type PgliteDatabase } from '../support/pglite.ts'
import { createEmbedFixture } from './fixture.ts'

const ALICE = '41111111-1111-4111-8111-111111111111'
const BOB = '42222222-2222-4222-8222-222222222222'
let dir: string
let db: PgliteDatabase

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'streamscope-pgvector-'))
  db = await openPglite(dir)
  await migrate(db.sql, await readMigrations())
}, 120_000)

afterAll(async () => {
  await db?.close()
  rmSync(dir, { recursive: true, force: true })
})

const literal = (v: number[]) => `[${v.join(',')}]`

describe('embeddings on pgvector (PGlite)', () => {
  it('has vector columns and a vector match_documents', async () => {
    expect(await detectEmbeddingColumn(db.sql)).toEqual({ kind: 'vector', type: '"extensions"."vector"' })
    const [fn] = await db.sql`select pg_get_function_identity_arguments('public.match_documents'::regproc) as args`
    expect(fn.args).toBe('query_embedding extensions.vector, match_count integer, filter_document uuid')
  })

  it('stores what the embed handler writes and ranks it with <=>, only the caller’s rows', async () => {
    const f = createEmbedFixture(db.sql, { EMBED_DIMENSION: '64' })
    const texts = ['postgres row level security policies', 'server sent events stream frames', 'vector similarity search in postgres']
    const alice = await (await f.request({ input: texts }, { token: await f.token(ALICE) })).json()
    expect(alice.ids).toHaveLength(3)
    await f.request({ input: ['postgres row level security policies'] }, { token: await f.token(BOB) })

    const [row] = await db.sql`select embedding::text as e, extensions.vector_dims(embedding) as dims from document_embeddings where id = ${alice.ids[0]}`
    expect(row.dims).toBe(64)
    const stored = JSON.parse(row.e) as number[]
    toLocalVector(texts[0], 64).forEach((x, i) => expect(stored[i]).toBeCloseTo(x, 5))

    const query = literal(toLocalVector('row level security in postgres', 64))
    const matches = await db.sql.begin(async (tx) => {
      await tx`set local role authenticated`
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: ALICE, role: 'authenticated' })}, true)`
      return tx`select content, similarity from public.match_documents(${query}::extensions.vector, 10)`
    })
    expect(matches.map((m) => m.content)).toHaveLength(3) // Bob's identical chunk is not among them
    expect(matches[0].content).toBe('postgres row level security policies')
    expect(matches[0].similarity).toBeGreaterThan(matches[1].similarity)
    const filtered = await db.sql`select content from public.match_documents(${query}::extensions.vector, 10, ${alice.document_id})`
    expect(filtered).toHaveLength(3)
  })

  it('embeds a message into a vector column', async () => {
    const f = createEmbedFixture(db.sql, { EMBED_DIMENSION: '8' })
    const [m] = await db.sql`insert into messages (session_id, user_id, role, content) values (${crypto.randomUUID()}, ${ALICE}, 'user', 'hello vectors') returning id`
    const res = await f.request({ message_id: m.id }, { token: await f.token(ALICE) })
    expect(res.status).toBe(200)
    const [row] = await db.sql`select extensions.vector_dims(embedding) as dims from message_embeddings where message_id = ${m.id}`
    expect(row.dims).toBe(8)
  })
})
