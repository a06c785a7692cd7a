// Operator login as an attacker tries it: `next` never leaves the origin, failed sign-ins
// (form and bearer) are throttled and logged, logout ends the session on the server in
// every process, rotating OPERATOR_TOKEN ends them all, and a weak token stops the start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from '../../dashboard/src/lib/server/auth.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { eventually, OPERATOR, SECRET, startDashboard, type Dashboard } from './support.ts'

let d: Dashboard

beforeAll(async () => {
  d = await startDashboard()
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

/** Posts a login form as a browser without JavaScript would; the answer unfollowed. */
function post(base: string, action: string, fields: Record<string, string>, query = '') {
  return fetch(`${base}/login?/${action}${query}`, {
    method: 'POST',
    // As a browser without JavaScript posts a form (fetch's */* would get use:enhance's JSON).
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  })
}

function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))
  if (!set) throw new Error(`no session cookie (status ${res.status})`)
  return set.split(';')[0]!
}

async function tokenLogin(base: string, token = OPERATOR, name = 'tester'): Promise<string> {
  const res = await post(base, 'token', { name, token })
  expect(res.status).toBe(303)
  return sessionCookie(res)
}

const read = (base: string, cookie: string, path = '/api/overview') => fetch(`${base}${path}`, { headers: { cookie }, redirect: 'manual' })

describe('next after login', () => {
  const attacks = ['/%09/evil.example/x', '/%0A', '/%0D', '%0A', '//evil.example', '/%5Cevil.example', '/.//evil.example', 'https://evil.example/']

  it('is a path on this origin, whatever the query holds, and never a 500', async () => {
    const cookie = await tokenLogin(d.base)
    for (const next of attacks) {
      const anonymous = await fetch(`${d.base}/login?next=${next}`, { redirect: 'manual' })
      expect(anonymous.status, next).toBe(200)
      await anonymous.body?.cancel()
      const signedIn = await fetch(`${d.base}/login?next=${next}`, { headers: { cookie }, redirect: 'manual' })
      expect(signedIn.status, next).toBe(303)
      expect(signedIn.headers.get('location'), next).toBe('/')
      const login = await post(d.base, 'token', { name: 'x', token: OPERATOR, next: decodeURIComponent(next) })
      expect(login.status, next).toBe(303)
      expect(login.headers.get('location'), next).toBe('/')
      const viaQuery = await post(d.base, 'token', { name: 'x', token: OPERATOR }, `&next=${next}`)
      expect(viaQuery.headers.get('location'), next).toBe('/')
    }
    const local = await fetch(`${d.base}/login?next=${encodeURIComponent('/streams?range=6h')}`, { headers: { cookie }, redirect: 'manual' })
    expect(local.headers.get('location')).toBe('/streams?range=6h')
  })

  it('keeps Chromium on this origin after the login form', async () => {
    const page = await d.browser.newPage()
    await page.goto(`${d.base}/login?next=/%09/evil.example/x`, { waitUntil: 'networkidle' })
    await page.fill('input[name="token"]', OPERATOR)
    await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('[data-testid="token-login"] button[type="submit"]')])
    const landed = new URL(page.url())
    expect(landed.origin).toBe(new URL(d.base).origin)
    expect(landed.pathname).toBe('/')
    await page.close()
  })
})

describe('sessions on the server', () => {
  let second: RunningServer | undefined
  let rotated: RunningServer | undefined

  afterAll(async () => {
    await second?.stop()
    await rotated?.stop()
  })

  it('ends with logout: the same cookie sent again is no session', async () => {
    const cookie = await tokenLogin(d.base, OPERATOR, 'leaving')
    expect((await read(d.base, cookie)).status).toBe(200)
    const out = await fetch(`${d.base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
    expect(out.status).toBe(303)
    expect(out.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=;`))).toBe(true)
    expect((await read(d.base, cookie)).status).toBe(401)
    const page = await read(d.base, cookie, '/health')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/login?next=%2Fhealth')
  })

  it('is shared by every dashboard process on the database, and logout in one ends it in all', async () => {
    second = await startServer({ DATABASE_URL: d.db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR })
    const cookie = await tokenLogin(d.base, OPERATOR, 'two tabs')
    expect((await read(second.baseUrl, cookie)).status).toBe(200)
    expect((await fetch(`${second.baseUrl}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })).status).toBe(303)
    expect((await read(d.base, cookie)).status).toBe(401)
  }, 120_000)

  it('all end when OPERATOR_TOKEN is rotated', async () => {
    const before = await tokenLogin(d.base, OPERATOR, 'before rotation')
    const next = `${OPERATOR}-rotated`
    rotated = await startServer({ DATABASE_URL: d.db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: next })
    expect((await read(rotated.baseUrl, before)).status).toBe(401)
    const after = await tokenLogin(rotated.baseUrl, next, 'after rotation')
    expect((await read(rotated.baseUrl, after)).status).toBe(200)
  }, 120_000)
})

describe('OPERATOR_TOKEN strength', () => {
  it('stops the server on a configured token under 32 characters, saying why', async () => {
    const failure = await startServer({ DATABASE_URL: d.db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: 'short-operator-token' }).then(
      async (s) => { await s.stop(); return null },
      (err: Error) => err,
    )
    expect(failure?.message).toMatch(/server exited with 1/)
    expect(failure?.message).toContain('OPERATOR_TOKEN is 20 characters long; outside development')
  }, 120_000)
})

// Last: it leaves this address throttled for a minute.
describe('failed sign-ins', () => {
  it('are throttled per address, form and bearer together (429 with retry-after), and logged', async () => {
    const cookie = await tokenLogin(d.base, OPERATOR, 'already in')
    const bearer = (token: string) => fetch(`${d.base}/api/overview`, { headers: { authorization: `Bearer ${token}` } })
    for (let i = 0; i < 5; i++) {
      expect((await post(d.base, 'token', { token: `wrong-${i}` })).status).toBe(401)
      expect((await bearer(`wrong-${i}`)).status).toBe(401)
    }
    const api = await bearer('wrong-again')
    expect(api.status).toBe(429)
    expect(Number(api.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await api.json()).error.code).toBe('rate_limited')
    const form = await post(d.base, 'token', { token: 'wrong-again' })
    expect(form.status).toBe(429)
    expect(Number(form.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await form.text()).toContain('Too many failed sign-ins from your address')

    // Refused before the token is even compared: guessing cannot go on at the same rate.
    expect((await post(d.base, 'token', { token: OPERATOR })).status).toBe(429)
    expect((await bearer(OPERATOR)).status).toBe(429)
    // An operator already signed in is not locked out.
    expect((await read(d.base, cookie)).status).toBe(200)

    const log = await eventually(async () => d.server.output(), (out) => out.includes('operator sign-in throttled'))
    expect(log).toMatch(/operator sign-in failed \(operator token\) from [^\s]+: That is not the operator token/)
    expect(log).toMatch(/operator sign-in failed \(bearer\) from [^\s]+: wrong operator token/)
    expect(log).not.toContain('wrong-1')
  })
})
