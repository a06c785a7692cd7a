// Operators are people: they sign in with their Supabase user (HS256 with the project secret,
// or ES256 from the project's JWKS), by e-mail + password against Supabase Auth or with a
// pasted access token, and their role (app_metadata or the allow-list table) decides what
// they may do. The flag history records who they are.
import { createServer, type Server } from 'node:http'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from '../../dashboard/src/lib/server/auth.ts'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { SECRET, startDashboard, type Dashboard } from './support.ts'

const ANON_KEY = 'test-anon-key'
const ALICE = { id: '0a1b2c3d-4e5f-4a6b-8c7d-000000000a11', email: 'alice@example.test', password: 'correct horse battery staple' }
const VERA = '0a1b2c3d-4e5f-4a6b-8c7d-0000000000ee'
const NOBODY = '0a1b2c3d-4e5f-4a6b-8c7d-0000000000bb'
const LISTED = '0a1b2c3d-4e5f-4a6b-8c7d-0000000000cc'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
let keys: KeyPair
let stranger: KeyPair
let auth: Server
let authUrl: string
let d: Dashboard

/** An ES256 access token as Supabase Auth signs it with an asymmetric key. */
function es256(sub: string, claims: Record<string, unknown> = {}, key = keys.privateKey, ttl: string | number = '1h') {
  return new SignJWT({ role: 'authenticated', aal: 'aal1', is_anonymous: false, session_id: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'project-key-1', typ: 'JWT' })
    .setSubject(sub).setAudience('authenticated').setIssuedAt().setExpirationTime(ttl).sign(key)
}

const hs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(ALICE.id).setAudience('authenticated').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))

const withRole = (role: string, email?: string) => ({ ...(email ? { email } : {}), app_metadata: { provider: 'email', providers: ['email'], streamscope_role: role } })

/**
 * The project's Auth API, as far as the dashboard uses it: the JWKS, and the password grant
 * (which answers like GoTrue: 400 invalid_credentials, or a session with an ES256 token).
 */
async function startAuth(): Promise<void> {
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'project-key-1', alg: 'ES256', use: 'sig' }] })
  auth = createServer(async (req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/auth/v1/.well-known/jwks.json') return void res.end(jwks)
    if (req.method === 'POST' && req.url === '/auth/v1/token?grant_type=password') {
      let body = ''
      for await (const chunk of req) body += chunk
      const { email, password } = JSON.parse(body || '{}') as { email?: string; password?: string }
      if (req.headers.apikey !== ANON_KEY) return void res.writeHead(401).end(JSON.stringify({ message: 'Invalid API key' }))
      if (email !== ALICE.email || password !== ALICE.password) {
        return void res.writeHead(400).end(JSON.stringify({ code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' }))
      }
      const accessToken = await es256(ALICE.id, withRole('operator', ALICE.email))
      return void res.end(JSON.stringify({ access_token: accessToken, token_type: 'bearer', expires_in: 3600, refresh_token: 'r1', user: { id: ALICE.id, email: ALICE.email } }))
    }
    res.writeHead(404).end('{}')
  })
  await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r))
  authUrl = `http://127.0.0.1:${(auth.address() as { port: number }).port}`
}

beforeAll(async () => {
  keys = await generateKeyPair('ES256')
  stranger = await generateKeyPair('ES256')
  await startAuth()
  d = await startDashboard({
    SUPABASE_URL: authUrl, SUPABASE_ANON_KEY: ANON_KEY, JWKS_URL: `${authUrl}/auth/v1/.well-known/jwks.json`,
    // This file fails on purpose more often than the throttle allows in a minute (tests/dashboard/login.test.ts tests it).
    OPERATOR_SIGNIN_FAILURES_PER_ADDRESS: '1000',
  })
}, 120_000)

afterAll(async () => {
  await d?.stop()
  await new Promise<void>((r) => (auth ? auth.close(() => r()) : r()))
})

function post(action: string, fields: Record<string, string>) {
  return fetch(`${d.base}/login?/${action}`, {
    method: 'POST',
    // As a browser without JavaScript posts a form (fetch's */* would get use:enhance's JSON).
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  })
}

async function signIn(accessToken: string): Promise<string> {
  const res = await post('account', { access_token: accessToken })
  expect(res.status, await res.clone().text()).toBe(303)
  return res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!.split(';')[0]!
}

const switchTransport = (headers: Record<string, string>, value: string) =>
  fetch(`${d.base}/api/flags/chat_transport`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ value }) })

describe('operator accounts', () => {
  it('signs in with e-mail and password through Supabase Auth (ES256 from the JWKS), as an operator, in Chromium', async () => {
    const context = await d.browser.newContext()
    const page = await context.newPage()
    await page.goto(`${d.base}/health`, { waitUntil: 'networkidle' })
    expect(new URL(page.url()).pathname).toBe('/login')
    await page.fill('input[name="email"]', ALICE.email)
    await page.fill('input[name="password"]', 'wrong password')
    await page.click('[data-testid="password-login"] button[type="submit"]')
    expect(await page.textContent('[data-testid="login-error"]')).toContain('Invalid login credentials')

    await page.fill('input[name="password"]', ALICE.password)
    await Promise.all([page.waitForURL('**/health'), page.click('[data-testid="password-login"] button[type="submit"]')])
    expect(await page.textContent('[data-testid="who"]')).toBe(ALICE.email)
    expect(await page.textContent('[data-testid="role"]')).toBe('operator')
    expect(await page.locator('[data-testid="transport-switch"]').isEnabled()).toBe(true)

    await page.click('[data-testid="transport-switch"]')
    await page.click('[data-testid="transport-confirm-button"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="transport-value"]')?.textContent === 'http')
    expect(await page.locator('[data-testid="flag-change"]').first().textContent()).toContain(ALICE.email)
    const [change] = await d.db.sql<{ changed_by: string; changed_by_user_id: string | null }[]>`
      select changed_by, changed_by_user_id from public.feature_flag_changes where key = 'chat_transport' order by id desc limit 1`
    expect(change).toEqual({ changed_by: ALICE.email, changed_by_user_id: ALICE.id })
    await context.close()
  })

  it('lets a viewer read everything but change nothing (HS256 with the project secret)', async () => {
    const token = await signUserToken(SECRET, VERA, 3600, withRole('viewer', 'vera@example.test'))
    const cookie = await signIn(token)
    for (const path of ['/api/overview', '/api/streams', '/api/health', '/', '/health']) {
      expect((await fetch(`${d.base}${path}`, { headers: { cookie }, redirect: 'manual' })).status, path).toBe(200)
    }
    const refused = await switchTransport({ cookie }, 'sse')
    expect(refused.status).toBe(403)
    expect((await refused.json()).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('viewer') })
    // The health page's own form action, posted as use:enhance posts it.
    const action = await fetch(`${d.base}/health?/transport`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'x-sveltekit-action': 'true' },
      body: 'value=sse&confirm=yes',
    })
    expect(action.status).toBe(403)
    expect(await action.json()).toMatchObject({ type: 'error', error: { code: 'forbidden' } })

    const page = await (await d.browser.newContext()).newPage()
    await page.context().addCookies([{ name: SESSION_COOKIE, value: cookie.split('=')[1]!, url: d.base }])
    await page.goto(`${d.base}/health`)
    expect(await page.textContent('[data-testid="role"]')).toBe('viewer')
    expect(await page.locator('[data-testid="transport-switch"]').isDisabled()).toBe(true)
    await page.context().close()

    const [flag] = await d.db.sql<{ value: string }[]>`select value from public.feature_flags where key = 'chat_transport'`
    expect(flag!.value).toBe('http')
  })

  it('takes the role from the allow-list table, which wins over app_metadata and ends sessions when it changes', async () => {
    const nobody = await post('account', { access_token: await es256(NOBODY, { email: 'nobody@example.test' }) })
    expect(nobody.status).toBe(403)
    expect(await nobody.text()).toContain('has no dashboard role')

    // Listed by e-mail (any case): a viewer, although the token says operator.
    await d.db.sql`insert into telemetry.operator_accounts (email, role, note) values ('Listed@Example.test', 'viewer', 'on call')`
    const cookie = await signIn(await es256(LISTED, withRole('operator', 'listed@example.test')))
    expect((await switchTransport({ cookie }, 'sse')).status).toBe(403)
    await d.db.sql`update telemetry.operator_accounts set role = 'operator' where email = 'Listed@Example.test'`
    expect((await fetch(`${d.base}/api/overview`, { headers: { cookie } })).status).toBe(401)
    const again = await signIn(await es256(LISTED, { email: 'listed@example.test' }))
    const switched = await switchTransport({ cookie: again }, 'sse')
    expect(switched.status).toBe(200)
    const [change] = await d.db.sql<{ changed_by: string; changed_by_user_id: string | null }[]>`
      select changed_by, changed_by_user_id from public.feature_flag_changes where key = 'chat_transport' order by id desc limit 1`
    expect(change).toEqual({ changed_by: 'listed@example.test', changed_by_user_id: LISTED })
    await d.db.sql`delete from telemetry.operator_accounts where email = 'Listed@Example.test'`
    expect((await fetch(`${d.base}/api/overview`, { headers: { cookie: again } })).status).toBe(401)
  })

  it('accepts an access token as Bearer for the API, with the same roles', async () => {
    const viewer = await es256(VERA, withRole('viewer', 'vera@example.test'))
    expect((await fetch(`${d.base}/api/overview`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(200)
    expect((await switchTransport({ authorization: `Bearer ${viewer}` }, 'http')).status).toBe(403)
    const operator = await signUserToken(SECRET, ALICE.id, 600, withRole('operator', ALICE.email))
    expect((await switchTransport({ authorization: `Bearer ${operator}` }, 'http')).status).toBe(200)
  })

  it('refuses tokens that are not a signed-in user of this project', async () => {
    const now = Math.floor(Date.now() / 1000)
    const refusals: [string, string, RegExp][] = [
      // Shaped to pass every other check (aud, sub, app_metadata): the role alone refuses them.
      ['a service_role token', await hs256({ role: 'service_role', ...withRole('operator') }), /role is "service_role"/],
      ['an anon token', await hs256({ role: 'anon', ...withRole('operator') }), /role is "anon"/],
      ['the service_role key', await new SignJWT({ role: 'service_role', iss: 'supabase' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET)), /no aud claim/],
      ['an expired token', await es256(ALICE.id, withRole('operator'), keys.privateKey, now - 600), /token expired/],
      ['a token signed by another key', await es256(ALICE.id, withRole('operator'), stranger.privateKey), /signature is invalid/],
      ['an anonymous user', await es256(ALICE.id, { ...withRole('operator'), is_anonymous: true }), /anonymous users/],
      ['a role in user_metadata (the user\'s own)', await es256(NOBODY, { user_metadata: { streamscope_role: 'operator' } }), /no dashboard role/],
    ]
    for (const [what, token, message] of refusals) {
      const res = await post('account', { access_token: token })
      expect([401, 403], what).toContain(res.status)
      expect(await res.text(), what).toMatch(message)
      const api = await fetch(`${d.base}/api/overview`, { headers: { authorization: `Bearer ${token}` } })
      expect([401, 403], what).toContain(api.status)
    }
  })
})
