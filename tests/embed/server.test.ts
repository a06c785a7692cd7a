// embed through the Node server (`npm start`): the router's /functions/v1/embed, the
// providers chosen from the environment, a real Postgres behind it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const SECRET = 'embed-server-secret-that-is-at-least-32-chars'
const USER = '5a1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b'
let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({ DATABASE_URL: db.url, JWT_SECRET: SECRET, EMBED_DIMENSION: '24' })
}, 90_000)

afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

const embed = async (body: unknown) => fetch(`${server.baseUrl}/functions/v1/embed`, {
  method: 'POST',
  headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

it('stores a document posted to /functions/v1/embed', async () => {
  const res = await embed({ input: 'hello from the node server', metadata: { via: 'npm start' } })
  expect(res.status).toBe(200)
  const body = await res.json()
  expect(body).toMatchObject({ trace_id: res.headers.get('x-trace-id'), dimension: 24, ids: [expect.any(String)] })
  const [row] = await db.sql`select user_id, content, metadata, dimension from document_embeddings where id = ${body.ids[0]}`
  expect(row).toEqual({ user_id: USER, content: 'hello from the node server', metadata: { via: 'npm start' }, dimension: 24 })
})

it('answers a bad request with its JSON error', async () => {
  const res = await embed({ input: [] })
  expect(res.status).toBe(400)
  expect((await res.json()).error).toMatchObject({ code: 'invalid_request', trace_id: res.headers.get('x-trace-id') })
})
