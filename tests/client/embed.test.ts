// embedTexts against the real embed function: batches, progress, stored rows, and retries that
// cannot store a batch twice even when the response to a stored batch is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { embedTexts, type EmbedProgress } from '../../shared/client/embed.ts'
import { ClientError } from '../../shared/client/post-json.ts'
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const SECRET = 'client-embed-secret-at-least-32-characters'

let db: TestDatabase
let server: RunningServer
let proxy: CutProxy

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({ DATABASE_URL: db.url, JWT_SECRET: SECRET, EMBED_MAX_INPUT_CHARS: '4000' })
  proxy = await startCutProxy(server.baseUrl)
}, 120_000)

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
  await db?.drop()
})

async function rowsOf(userId: string) {
  return db.sql<{ id: string; document_id: string; content: string }[]>`
    select id, document_id, content from public.document_embeddings where user_id = ${userId} order by document_id, chunk_index`
}

describe('embedTexts', () => {
  it('posts batches, reports progress and returns what was stored', async () => {
    const userId = crypto.randomUUID()
    const token = await signUserToken(SECRET, userId)
    const progress: EmbedProgress[] = []
    const input = ['one', 'two', 'three', 'four', 'five']
    const result = await embedTexts({ url: server.baseUrl, getToken: () => token, input, batchSize: 2, onProgress: (p) => progress.push(p) })
    expect(progress).toEqual([{ done: 0, total: 5 }, { done: 2, total: 5 }, { done: 4, total: 5 }, { done: 5, total: 5 }])
    expect(result.batches).toHaveLength(3)
    expect(result.document_ids).toHaveLength(3)
    expect(result.ids).toHaveLength(5)
    expect(result).toMatchObject({ model: 'local-hash-384', dimension: 384 })
    const rows = await rowsOf(userId)
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(result.ids))
    expect(rows.map((r) => r.content).sort()).toEqual([...input].sort())
  })

  it('keeps a document in one request, and sending it again replaces it', async () => {
    const userId = crypto.randomUUID()
    const token = await signUserToken(SECRET, userId)
    const document_id = crypto.randomUUID()
    const input = Array.from({ length: 7 }, (_, i) => `paragraph ${i}`)
    const first = await embedTexts({ url: server.baseUrl, getToken: () => token, input, document_id, batchSize: 2, metadata: { filename: 'a.txt' } })
    expect(first.batches).toHaveLength(1)
    expect(first.document_ids).toEqual([document_id])
    await embedTexts({ url: server.baseUrl, getToken: () => token, input, document_id })
    expect(await rowsOf(userId)).toHaveLength(7)
  })

  it('retries a batch whose response was lost without storing it twice', async () => {
    const userId = crypto.randomUUID()
    const token = await signUserToken(SECRET, userId)
    let embeds = 0
    // The first answer is cut at its first byte: the rows are stored, the client never hears so.
    proxy.setPlan(({ path }) => (path.startsWith('/functions/v1/embed') && ++embeds === 1 ? 0 : null))
    const retries: string[] = []
    const result = await embedTexts({
      url: proxy.url, getToken: () => token, input: ['a', 'b', 'c'], batchSize: 3, baseDelayMs: 10,
      onRetry: (e) => retries.push(e.reason),
    })
    proxy.setPlan(() => null)
    expect(retries).toEqual(['network'])
    expect(embeds).toBe(2)
    const rows = await rowsOf(userId)
    expect(rows).toHaveLength(3)
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(result.ids))
  })

  it('fails at once, with the stable code, on input the server refuses', async () => {
    const token = await signUserToken(SECRET, crypto.randomUUID())
    let calls = 0
    const counting: typeof fetch = (input, init) => { calls++; return fetch(input, init) }
    const err = await embedTexts({ url: server.baseUrl, getToken: () => token, input: ['x'.repeat(4001)], fetch: counting }).catch((e) => e)
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toMatchObject({ code: 'content_too_large', status: 413, retryable: false, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) })
    expect(calls).toBe(1)
  })
})
