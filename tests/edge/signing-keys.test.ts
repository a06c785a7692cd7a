// The functions in their Deno isolates behind the gateway, on a project with JWT signing keys:
// ES256 from the SUPABASE_JWKS they started with (no fetch), RS256 from the JWKS under SUPABASE_URL
// (fetched), HS256 with the legacy secret, and a key the project never had refused as JSON.
import { afterAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { edgeStack } from '../support/edge.ts'
import { makeSigningKey } from '../support/jwks.ts'

const edge = edgeStack()
const direct = edge.direct()
afterAll(() => direct.end({ timeout: 1 }))

const bodies = {
  chat: () => ({ session_id: crypto.randomUUID(), content: 'signed with a signing key', max_tokens: 3 }),
  embed: () => ({ input: 'signed with a signing key' }),
}
const call = (fn: keyof typeof bodies, token: string) => fetch(`${edge.gatewayUrl}/functions/v1/${fn}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(bodies[fn]()),
})
const jwksFetches = async () => Number(await (await fetch(`${edge.authOrigin}/_fetches`)).text())

it('accepts ES256 from SUPABASE_JWKS without a fetch, then RS256 from the JWKS endpoint, in chat and embed', async () => {
  const users: string[] = []
  for (const fn of ['chat', 'embed'] as const) {
    // Enough requests that, with no stickiness, both isolates of each function answer some.
    for (let i = 0; i < 4; i++) {
      const user = crypto.randomUUID()
      users.push(user)
      const res = await call(fn, await signUserToken(edge.signingKeys.inline, user))
      expect(res.status, `${fn} on ${res.headers.get('x-isolate')}`).toBe(200)
      await res.text()
    }
  }
  expect(await jwksFetches()).toBe(0)
  for (const fn of ['chat', 'embed'] as const) {
    const user = crypto.randomUUID()
    users.push(user)
    const res = await call(fn, await signUserToken(edge.signingKeys.published, user))
    expect(res.status, fn).toBe(200)
    await res.text()
  }
  expect(await jwksFetches()).toBeGreaterThan(0)
  const [{ n }] = await direct`select count(distinct user_id)::int as n from public.messages where user_id = any(${users}::uuid[]) and role = 'user'`
  expect(n).toBe(5) // the chats: four with the inline key, one with the published one
})

it('refuses a token signed by a key the project never had: 401 JSON with the trace id', async () => {
  const stranger = await makeSigningKey('ES256', edge.signingKeys.inline.kid)
  for (const fn of ['chat', 'embed'] as const) {
    const res = await call(fn, await signUserToken(stranger, crypto.randomUUID()))
    expect(res.status, fn).toBe(401)
    const { error } = await res.json() as { error: { code: string; message: string; trace_id: string } }
    expect(error).toEqual({ code: 'unauthorized', message: 'token signature is invalid', trace_id: res.headers.get('x-trace-id') })
  }
})
