// A project on Supabase's JWT signing keys: the functions find its keys as the platform hands them
// over (SUPABASE_JWKS, and the JWKS under SUPABASE_URL for a key SUPABASE_JWKS lacks), keep taking
// the legacy HS256 secret, and refuse what Supabase Auth did not sign, in the JSON error shape.
import { generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { createChatFixture, framesOf, TEST_SECRET } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { createEmbedFixture } from '../embed/fixture.ts'
import { keySetOf, makeSigningKey, startJwksServer, type JwksServer } from '../support/jwks.ts'
import { freePort } from '../support/pg-cluster.ts'

let db: TestDatabase
let auth: JwksServer
let inline: Awaited<ReturnType<typeof makeSigningKey>>
let published: Awaited<ReturnType<typeof makeSigningKey>>
let stranger: Awaited<ReturnType<typeof makeSigningKey>>
let env: Record<string, string>

beforeAll(async () => {
  db = await freshDatabase()
  ;[inline, published, stranger] = await Promise.all([
    makeSigningKey('ES256', 'inline-es'), makeSigningKey('RS256', 'published-rs'), makeSigningKey('ES256', 'inline-es'),
  ])
  // The endpoint has both keys; SUPABASE_JWKS (what the isolate started with) only the first.
  auth = await startJwksServer(keySetOf([inline, published]))
  env = { JWT_SECRET: TEST_SECRET, SUPABASE_URL: auth.origin, SUPABASE_JWKS: JSON.stringify(keySetOf([inline])) }
})
afterAll(async () => {
  await auth?.stop()
  await db?.drop()
})

type Fixture = { request(body: unknown, init?: { token?: string }): Promise<Response> }
const functions = {
  chat: { make: (e: Record<string, string>) => createChatFixture(db.sql, e), body: () => ({ session_id: crypto.randomUUID(), content: 'hi', max_tokens: 3 }) },
  embed: { make: (e: Record<string, string>) => createEmbedFixture(db.sql, e), body: () => ({ input: 'a text to embed' }) },
}

async function refusal(res: Response, status: number, code: string, message: RegExp) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const { error } = await res.json() as { error: { code: string; message: string; trace_id: string } }
  expect(error).toEqual({ code, message: expect.stringMatching(message), trace_id: res.headers.get('x-trace-id') })
}

for (const [name, fn] of Object.entries(functions)) {
  describe(name, () => {
    let f: Fixture
    beforeAll(() => { f = fn.make(env) })
    const user = () => crypto.randomUUID()

    it('accepts ES256 from SUPABASE_JWKS, RS256 from the JWKS under SUPABASE_URL, and the legacy HS256 secret', async () => {
      for (const signer of [inline, published, TEST_SECRET]) {
        const res = await f.request(fn.body(), { token: await signUserToken(signer, user()) })
        expect(res.status, typeof signer === 'string' ? 'HS256' : signer.kid).toBe(200)
        if (name === 'chat') expect(framesOf(await res.text()).at(-1)?.event).toBe('chat.done')
        else await res.body?.cancel()
      }
    })

    it('refuses a key the project does not have, an algorithm it does not sign with, and an expired token: 401', async () => {
      const claims = (alg: string, kid?: string) => new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg, kid })
        .setSubject(user()).setAudience('authenticated').setIssuedAt().setExpirationTime('1h')
      const hs512 = await claims('HS512').sign(new TextEncoder().encode(TEST_SECRET))
      // An algorithm Supabase does not sign with, under the name of a key the project has.
      const es384 = await claims('ES384', 'inline-es').sign((await generateKeyPair('ES384')).privateKey)
      const cases: [string, string, RegExp][] = [
        ['signed by a key of the same kid the project never had', await signUserToken(stranger, user()), /signature is invalid/],
        ['signed by an unknown kid', await signUserToken({ ...stranger, kid: 'nobody' }, user()), /no signing key matches the token's kid "nobody"/],
        ['HS512', hs512, /algorithm "HS512" is not allowed/],
        ['ES384', es384, /algorithm "ES384" is not allowed/],
        ['expired', await signUserToken(inline, user(), -(60 + 30)), /token expired/],
      ]
      for (const [why, token, message] of cases) await refusal(await f.request(fn.body(), { token }), 401, 'unauthorized', message).catch((err: Error) => {
        throw new Error(`${why}: ${err.message}`)
      })
    })

    it('answers 503 auth_unavailable with retry-after when the JWKS cannot be fetched (no 500, not "sign in again")', async () => {
      const down = fn.make({ JWT_SECRET: TEST_SECRET, SUPABASE_URL: `http://127.0.0.1:${await freePort()}` })
      const res = await down.request(fn.body(), { token: await signUserToken(published, user()) })
      expect(res.headers.get('retry-after')).toBe('1')
      await refusal(res, 503, 'auth_unavailable', /signing keys \(JWKS\) could not be fetched/)
      // The legacy secret needs no fetch: it still works while the endpoint is away.
      const legacy = await down.request(fn.body(), { token: await signUserToken(TEST_SECRET, user()) })
      expect(legacy.status).toBe(200)
      await legacy.body?.cancel()
    })
  })
}
