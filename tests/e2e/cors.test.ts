// A browser app on another origin calls the functions, as a Supabase app does
// (https://app.example.com → https://<ref>.supabase.co): real Chromium, real preflight.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { launchChromium } from '../support/browser.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const SECRET = 'cors-secret-that-is-at-least-32-characters-long'
const USER = '6a1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b'

let db: TestDatabase
let server: RunningServer
let browser: Browser
let app: Server
let page: Page

beforeAll(async () => {
  db = await freshDatabase()
  ;[server, browser] = await Promise.all([
    startServer({ DATABASE_URL: db.url, JWT_SECRET: SECRET, SIM_TTFB_MS: '10', SIM_TOKENS_PER_SECOND: '500', SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0' }),
    launchChromium(),
  ])
  // The app's own origin: another port is another origin.
  app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'))
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
  page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${(app.address() as { port: number }).port}/`)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  app?.close()
  await server?.stop()
  await db?.drop()
})

/** fetch from the page (cross-origin: Authorization and JSON make it preflighted), reading what a client library reads. */
const call = (body: string, token: string) => page.evaluate(async ({ url, body, token }) => {
  try {
    const res = await fetch(url, {
      method: 'POST', body,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID(), traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` },
    })
    return { status: res.status, traceId: res.headers.get('x-trace-id'), heartbeat: res.headers.get('x-heartbeat-seconds'), text: await res.text() }
  } catch (err) {
    return { status: 0, traceId: null, heartbeat: null, text: String(err) }
  }
}, { url: `${server.baseUrl}/functions/v1/chat`, body, token })

it('streams a chat to a page on another origin, which can read the trace id and the heartbeat interval', async () => {
  const token = await signUserToken(SECRET, USER)
  const r = await call(JSON.stringify({ session_id: crypto.randomUUID(), content: 'hello across origins' }), token)
  expect(r.status).toBe(200)
  expect(r.traceId).toBe('ab'.repeat(16)) // the page's traceparent was allowed through and continued
  expect(r.heartbeat).toBe('15')
  expect(r.text).toContain('event: chat.done')
})

it("lets the page read an error's code and trace id", async () => {
  const r = await call('{not json', await signUserToken(SECRET, USER))
  expect(r.status).toBe(400)
  expect(JSON.parse(r.text).error.code).toBe('invalid_json')
  expect(r.traceId).toMatch(/^[0-9a-f]{32}$/)
})
