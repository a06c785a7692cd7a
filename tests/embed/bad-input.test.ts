// A client's mistake in an embed or chat body is a 400 naming the field, through the Node
// server (`npm start`) on a real Postgres, and nothing is stored: metadata nested thousands
// deep (a stack overflow, 500, before), metadata or text holding a lone surrogate (jsonb
// refused it: 503 database_unavailable "retry", before), any body nested too deep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const SECRET = 'embed-bad-input-secret-at-least-32-characters'
const USER = '6b2d3c5b-6e7f-4a81-9bac-1d2e3f4a5b6c'
const SESSION = '7c3e4d6c-7f80-4b92-8cbd-2e3f4a5b6c7d'
let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({ DATABASE_URL: db.url, JWT_SECRET: SECRET, EMBED_DIMENSION: '24', SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '1000' })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

/** Posts a raw body text, so a "\ud800" escape reaches the server as written. */
const post = async (fn: 'embed' | 'chat', body: string) => fetch(`${server.baseUrl}/functions/v1/${fn}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json' },
  body,
})

const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth)

async function expect400(res: Response, mentions: RegExp) {
  expect(res.status).toBe(400)
  const body = await res.json() as { error: { code: string; message: string; trace_id: string } }
  expect(body.error).toEqual({ code: 'invalid_request', message: expect.stringMatching(mentions), trace_id: res.headers.get('x-trace-id') })
}

const stored = async () => {
  const [row] = await db.sql<{ docs: number; messages: number }[]>`
    select (select count(*) from document_embeddings where user_id = ${USER})::int as docs,
           (select count(*) from messages where user_id = ${USER})::int as messages`
  return row!
}

describe('embed', () => {
  it('refuses metadata nested 3,000 deep', async () => {
    await expect400(await post('embed', `{"input":"deep","metadata":${nested(3000)}}`), /^body nests deeper than 64 levels/)
    await expect400(await post('embed', `{"input":"deep","metadata":${nested(40)}}`), /^metadata nests deeper than 32 levels/)
  })

  it('refuses a lone surrogate in metadata, its keys or the input', async () => {
    for (const body of [
      '{"input":"x","metadata":{"k":"\\ud800"}}', '{"input":"x","metadata":{"list":["ok","a\\udc00"]}}',
      '{"input":"x","metadata":{"\\ud800":1}}', '{"input":"a\\ud800b"}', '{"input":["ok","\\udfff"]}',
    ]) await expect400(await post('embed', body), /well-formed Unicode/)
  })

  it('stores what is left once the mistakes are fixed: a pair, not a half', async () => {
    expect(await stored()).toEqual({ docs: 0, messages: 0 })
    const res = await post('embed', `{"input":"x \\ud83d\\ude42","metadata":${nested(31, '{"k":"\\ud83d\\ude42"}')}}`)
    expect(res.status).toBe(200)
    const [row] = await db.sql<{ content: string }[]>`select content from document_embeddings where user_id = ${USER}`
    expect(row!.content).toBe('x 🙂')
  })
})

describe('chat', () => {
  it('refuses content holding a lone surrogate, and a body nested too deep', async () => {
    await expect400(await post('chat', `{"session_id":"${SESSION}","content":"hi \\ud800"}`), /^content must be well-formed Unicode/)
    await expect400(await post('chat', `{"session_id":"${SESSION}","content":"hi","extra":${nested(3000)}}`), /^body nests deeper/)
    expect((await stored()).messages).toBe(0)
  })
})
