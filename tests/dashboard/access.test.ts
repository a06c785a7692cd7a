// Only operators see anything: every API route (the live stream included) answers 401
// without the session or the bearer token, every page sends to the login, logout ends
// the session, and an expired session is no session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_COOKIE } from '../../dashboard/src/lib/server/auth.ts'
import { newSessionId, sessionIdHash, tokenEpoch } from '../../dashboard/src/lib/server/operator-sessions.ts'
import { startDashboard, OPERATOR, type Dashboard } from './support.ts'

let d: Dashboard

beforeAll(async () => {
  d = await startDashboard()
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

const API = [
  '/api/overview', '/api/spend', '/api/spend/daily.csv', '/api/streams', '/api/health', '/api/alerts', '/api/live',
  '/api/lookup?q=x', `/api/traces/${'a'.repeat(32)}`, '/api/nothing-here',
]
const PAGES = ['/', '/spend?range=7d', '/streams', '/health', `/traces/${'a'.repeat(32)}`, '/traces?id=x']

describe('access', () => {
  it('answers every API route with 401 JSON without credentials, and serves them with the bearer token', async () => {
    for (const path of API) {
      const res = await fetch(`${d.base}${path}`)
      expect(res.status, path).toBe(401)
      expect((await res.json()).error.code, path).toBe('unauthorized')
    }
    const post = await fetch(`${d.base}/api/flags/chat_transport`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"value":"http"}' })
    expect(post.status).toBe(401)
    for (const path of ['/api/overview', '/api/spend', '/api/streams', '/api/health', '/api/alerts']) {
      const res = await d.api(path)
      expect(res.status, path).toBe(200)
    }
  })

  it('sends every page to the login, and back after it', async () => {
    for (const path of PAGES) {
      const res = await fetch(`${d.base}${path}`, { redirect: 'manual' })
      expect(res.status, path).toBe(303)
      expect(res.headers.get('location'), path).toBe(`/login?next=${encodeURIComponent(path)}`)
    }
    const page = await d.browser.newPage()
    await page.goto(`${d.base}/streams?range=6h`)
    await page.fill('input[name="token"]', 'wrong')
    await page.click('[data-testid="token-login"] button[type="submit"]')
    expect(await page.textContent('[data-testid="login-error"]')).toContain('not the operator token')
    await page.fill('input[name="token"]', OPERATOR)
    await Promise.all([page.waitForURL('**/streams?range=6h'), page.click('[data-testid="token-login"] button[type="submit"]')])
    await page.close()
  })

  it('logs out, and refuses an expired session (the live stream too)', async () => {
    const page = await d.login('leaving')
    await page.goto(`${d.base}/health`)
    await Promise.all([page.waitForURL('**/login'), page.click('[data-testid="logout"]')])
    await page.goto(`${d.base}/health`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await page.context().close()

    // A session row that has run out, as the table would hold it 12 hours on.
    const stale = newSessionId()
    await d.db.sql`insert into telemetry.operator_sessions (id_hash, epoch, name, role, expires_at)
      values (${sessionIdHash(stale)!}, ${tokenEpoch(OPERATOR)}, 'old (operator token)', 'operator', now() - interval '1 second')`
    const cookie = `${SESSION_COOKIE}=${stale}`
    const res = await fetch(`${d.base}/`, { headers: { cookie }, redirect: 'manual' })
    expect(res.status).toBe(303)
    expect((await fetch(`${d.base}/api/live`, { headers: { cookie } })).status).toBe(401)
    const fresh = newSessionId()
    await d.db.sql`insert into telemetry.operator_sessions (id_hash, epoch, name, role, expires_at)
      values (${sessionIdHash(fresh)!}, ${tokenEpoch(OPERATOR)}, 'ok (operator token)', 'operator', now() + interval '1 hour')`
    const live = await fetch(`${d.base}/api/live`, { headers: { cookie: `${SESSION_COOKIE}=${fresh}` } })
    expect(live.status).toBe(200)
    expect(live.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = live.body!.getReader()
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toContain('retry: 2000')
    await reader.cancel()
  })

  it('ends an open live stream when its session is logged out', async () => {
    const id = newSessionId()
    await d.db.sql`insert into telemetry.operator_sessions (id_hash, epoch, name, role, expires_at)
      values (${sessionIdHash(id)!}, ${tokenEpoch(OPERATOR)}, 'leaving (operator token)', 'operator', now() + interval '1 hour')`
    const cookie = `${SESSION_COOKIE}=${id}`
    const live = await fetch(`${d.base}/api/live`, { headers: { cookie } })
    expect(live.status).toBe(200)
    const logout = await fetch(`${d.base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })
    expect(logout.status).toBe(303)
    // The stream's next session check finds the session gone: `expired`, then the end of the body.
    const text = await live.text()
    expect(text).toContain('event: expired')
  }, 60_000)

  it('keeps telemetry out of shared caches', async () => {
    const res = await d.api('/api/overview')
    expect(res.headers.get('cache-control')).toBe('private, no-store')
  })
})
