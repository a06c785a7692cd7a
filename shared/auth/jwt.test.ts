import { createServer, type Server } from 'node:http'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, AuthUnavailableError, CLOCK_SKEW_SECONDS, createJwtVerifier, signUserToken } from './jwt.ts'

const SECRET = 'auth-test-secret-that-is-at-least-32-chars'
const USER = '0b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d'
let server: Server
let jwksUrl: string
let fetches = 0
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
let es: KeyPair
let rs: KeyPair
let stranger: KeyPair

beforeAll(async () => {
  es = await generateKeyPair('ES256')
  rs = await generateKeyPair('RS256')
  stranger = await generateKeyPair('ES256')
  const esPub = await exportJWK(es.publicKey)
  const rsPub = await exportJWK(rs.publicKey)
  const body = JSON.stringify({ keys: [{ ...esPub, kid: 'es-1', alg: 'ES256', use: 'sig' }, { ...rsPub, kid: 'rs-1', alg: 'RS256', use: 'sig' }] })
  server = createServer((req, res) => {
    fetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  jwksUrl = `http://127.0.0.1:${port}/auth/v1/.well-known/jwks.json`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

const sign = (key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }, claims: { sub?: string; aud?: string; exp?: string | number } = {}) => {
  const jwt = new SignJWT({ role: 'authenticated' }).setProtectedHeader({ typ: 'JWT', ...header }).setIssuedAt()
  if (claims.sub !== '') jwt.setSubject(claims.sub ?? USER)
  jwt.setAudience(claims.aud ?? 'authenticated').setExpirationTime(claims.exp ?? '1h')
  return jwt.sign(key)
}
const secretKey = new TextEncoder().encode(SECRET)
const bearer = (t: string) => `Bearer ${t}`

async function failure(verify: (h: string | null) => Promise<unknown>, header: string | null): Promise<Error> {
  try {
    await verify(header)
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the token to be refused')
}

describe('createJwtVerifier', () => {
  const both = () => createJwtVerifier({ jwtSecret: SECRET, jwtAudience: 'authenticated', jwksUrl })

  it('accepts HS256 with the secret and ES256/RS256 from the JWKS', async () => {
    const verify = both()
    expect((await verify(bearer(await signUserToken(SECRET, USER)))).userId).toBe(USER)
    expect((await verify(bearer(await sign(es.privateKey, { alg: 'ES256', kid: 'es-1' })))).userId).toBe(USER)
    expect((await verify(bearer(await sign(rs.privateKey, { alg: 'RS256', kid: 'rs-1' })))).userId).toBe(USER)
  })

  it('fetches the JWKS once per process, shared by every verifier', async () => {
    const before = fetches
    for (let i = 0; i < 3; i++) {
      const verify = both()
      await verify(bearer(await sign(es.privateKey, { alg: 'ES256', kid: 'es-1' })))
    }
    // The first test already loaded the set (cached per URL); nothing new was fetched.
    expect(fetches - before).toBe(0)
    expect(fetches).toBe(1)
  })

  const cases: [string, () => Promise<string | null>, RegExp][] = [
    ['missing', async () => null, /missing bearer token/],
    ['not Bearer', async () => 'Basic abc', /must be "Bearer <token>"/],
    ['malformed', async () => bearer('not-a-jwt'), /malformed token/],
    ['malformed payload', async () => bearer('eyJhbGciOiJIUzI1NiJ9.%%%.abc'), /malformed token|signature/],
    ['expired beyond the clock skew', async () => bearer(await signUserToken(SECRET, USER, -(CLOCK_SKEW_SECONDS + 60))), /token expired/],
    ['wrong audience', async () => bearer(await sign(secretKey, { alg: 'HS256' }, { aud: 'anon' })), /audience is not "authenticated"/],
    ['wrong alg (HS512)', async () => bearer(await sign(secretKey, { alg: 'HS512' })), /algorithm "HS512" is not allowed/],
    ['alg none', async () => bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: USER, aud: 'authenticated' })}.`), /algorithm "none" is not allowed/],
    ['unknown kid', async () => bearer(await sign(stranger.privateKey, { alg: 'ES256', kid: 'es-404' })), /no signing key matches the token's kid "es-404"/],
    ['forged ES256 with a known kid', async () => bearer(await sign(stranger.privateKey, { alg: 'ES256', kid: 'es-1' })), /signature is invalid/],
    ['forged HS256', async () => bearer(await sign(new TextEncoder().encode('x'.repeat(40)), { alg: 'HS256' })), /signature is invalid/],
    ['no sub', async () => bearer(await sign(secretKey, { alg: 'HS256' }, { sub: '' })), /no sub claim/],
    ['sub not a UUID', async () => bearer(await sign(secretKey, { alg: 'HS256' }, { sub: 'alice' })), /not a user id/],
  ]
  for (const [name, header, message] of cases) {
    it(`refuses ${name} with a message that says which`, async () => {
      const err = await failure(both(), await header())
      expect(err).toBeInstanceOf(AuthError)
      expect(err.message).toMatch(message)
    })
  }

  it('refuses asymmetric tokens without a JWKS, and HS256 without a secret', async () => {
    const hsOnly = createJwtVerifier({ jwtSecret: SECRET, jwtAudience: 'authenticated', jwksUrl: '' })
    expect((await failure(hsOnly, bearer(await sign(es.privateKey, { alg: 'ES256', kid: 'es-1' })))).message).toMatch(/ES256 tokens are not accepted/)
    const jwksOnly = createJwtVerifier({ jwtSecret: '', jwtAudience: 'authenticated', jwksUrl })
    expect((await failure(jwksOnly, bearer(await signUserToken(SECRET, USER)))).message).toMatch(/HS256 tokens are not accepted/)
  })

  it('says "unavailable" (not "unauthorized") when the JWKS cannot be fetched', async () => {
    const down = createJwtVerifier({ jwtSecret: '', jwtAudience: 'authenticated', jwksUrl: 'http://127.0.0.1:9/jwks.json' })
    const err = await failure(down, bearer(await sign(es.privateKey, { alg: 'ES256', kid: 'es-1' })))
    expect(err).toBeInstanceOf(AuthUnavailableError)
  })
})

/** A token with exactly these claims (times in seconds from now), signed like Supabase's. */
function claimed(key: CryptoKey | Uint8Array, header: { alg: string; kid?: string }, claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000)
  const at = (name: string) => (typeof claims[name] === 'number' ? { [name]: now + (claims[name] as number) } : {})
  const payload = { sub: USER, aud: 'authenticated', role: 'authenticated', ...claims, ...at('exp'), ...at('iat'), ...at('nbf') }
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k as keyof typeof payload]
  return new SignJWT(payload).setProtectedHeader({ typ: 'JWT', ...header }).sign(key)
}

describe('claims', () => {
  const verify = () => createJwtVerifier({ jwtSecret: SECRET, jwtAudience: 'authenticated', jwksUrl })
  const hs = { alg: 'HS256' }
  const signer = () => [es.privateKey, { alg: 'ES256', kid: 'es-1' }] as const

  const refused: [string, () => Promise<string>, RegExp][] = [
    ['a token without exp', () => claimed(secretKey, hs, { iat: 0 }), /no exp claim/],
    ['an ES256 token without exp', () => claimed(...signer(), { iat: 0 }), /no exp claim/],
    ['an iat beyond the clock skew in the future', () => claimed(secretKey, hs, { iat: CLOCK_SKEW_SECONDS + 60, exp: 3600 }), /iat is in the future/],
    ['an nbf beyond the clock skew in the future', () => claimed(secretKey, hs, { nbf: CLOCK_SKEW_SECONDS + 60, exp: 3600 }), /claim "nbf" is invalid/],
    ['an exp beyond the clock skew in the past', () => claimed(secretKey, hs, { iat: -3600, exp: -(CLOCK_SKEW_SECONDS + 60) }), /token expired/],
    ['a service_role token', () => claimed(secretKey, hs, { role: 'service_role', exp: 3600 }), /role is "service_role", not "authenticated"/],
    ['an anon token', () => claimed(secretKey, hs, { role: 'anon', exp: 3600 }), /role is "anon", not "authenticated"/],
    ['an ES256 service_role token', () => claimed(...signer(), { role: 'service_role', exp: 3600 }), /role is "service_role"/],
    ['a token without a role', () => claimed(secretKey, hs, { role: undefined, exp: 3600 }), /role is missing/],
  ]
  for (const [name, token, message] of refused) {
    it(`refuses ${name}`, async () => {
      const err = await failure(verify(), bearer(await token()))
      expect(err).toBeInstanceOf(AuthError)
      expect(err.message).toMatch(message)
    })
  }

  it('allows the clock skew on exp, nbf and iat', async () => {
    const within = CLOCK_SKEW_SECONDS - 10
    for (const claims of [{ iat: -3600, exp: -within }, { iat: within, exp: 3600 }, { nbf: within, iat: 0, exp: 3600 }]) {
      expect((await verify()(bearer(await claimed(secretKey, hs, claims)))).userId, JSON.stringify(claims)).toBe(USER)
    }
  })

  it('signs user tokens that pass, with extra claims but never another role', async () => {
    const token = await signUserToken(SECRET, USER, 60, { email: 'a@example.test', role: 'service_role' })
    const { claims } = await verify()(bearer(token))
    expect(claims).toMatchObject({ role: 'authenticated', email: 'a@example.test', aud: 'authenticated' })
    expect(typeof claims.exp).toBe('number')
    expect(typeof claims.iat).toBe('number')
  })
})

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
