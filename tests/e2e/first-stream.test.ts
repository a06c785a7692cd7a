// The first whole stream, end to end: a chat over HTTP to the real server process,
// its spans in a real Postgres, and the dashboard in real headless Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { launchChromium } from '../support/browser.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { framesOf } from '../support/chat-fixture.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const SECRET = 'e2e-secret-that-is-at-least-32-characters-long'
const OPERATOR = 'e2e-operator-token-at-least-32-characters'
const USER = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b'

let db: TestDatabase
let server: RunningServer
let browser: Browser
let traceId: string

async function chat(content: string) {
  const res = await fetch(`${server.baseUrl}/functions/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: crypto.randomUUID(), content }),
  })
  return { res, text: await res.text() }
}

beforeAll(async () => {
  db = await freshDatabase()
  ;[server, browser] = await Promise.all([
    startServer({
      DATABASE_URL: db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR,
      SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '400', SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
    }),
    launchChromium(),
  ])
  const { res, text } = await chat('hello from the e2e test')
  expect(res.status).toBe(200)
  traceId = res.headers.get('x-trace-id')!
  expect(framesOf(text).at(-1)!.event).toBe('chat.done')
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
})

async function waitForTrace(id: string) {
  return until(async () => {
    const res = await fetch(`${server.baseUrl}/api/traces/${id}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    // Child spans are exported before the request span ends: wait for the request span. Logs
    // go in a write of their own (spans first, then logs): wait for them too.
    const body = res.status === 200 ? await res.json() : await res.body?.cancel()
    return body?.spans.some((s: { kind: string }) => s.kind === 'server') && body.logs.length > 0 && body
  }, `trace ${id} to become visible`)
}

describe('first stream, end to end', () => {
  it('serves the trace of a chat request as JSON, to operators only', async () => {
    const body = await waitForTrace(traceId)
    expect(body.trace_id).toBe(traceId)
    const names = body.spans.map((s: { name: string }) => s.name)
    expect(names).toEqual(expect.arrayContaining(['POST /functions/v1/chat', 'chat sim-1', 'insert messages', 'auth verify_jwt']))
    expect(body.logs.length).toBeGreaterThan(0)

    const anonymous = await fetch(`${server.baseUrl}/api/traces/${traceId}`)
    expect(anonymous.status).toBe(401)
    const unknown = await fetch(`${server.baseUrl}/api/traces/${'0'.repeat(31)}1`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error.code).toBe('not_found')
  })

  it('answers bad chat input with 4xx JSON carrying the trace id', async () => {
    const res = await fetch(`${server.baseUrl}/functions/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json' },
      body: '{"session_id": 1',
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: { code: 'invalid_json', message: expect.any(String), trace_id: res.headers.get('x-trace-id') } })
  })

  it('shows the stream on the overview with its TTFB chart, and its spans on the trace page', async () => {
    await waitForTrace(traceId)
    const page = await browser.newPage()
    await page.goto(`${server.baseUrl}/`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await page.fill('input[name="token"]', OPERATOR)
    await page.click('[data-testid="token-login"] button[type="submit"]')
    await page.waitForSelector('[data-testid="ttfb-chart"][data-rendered="true"]', { timeout: 15_000 })
    const row = page.locator(`[data-testid="stream-row"][data-trace-id="${traceId}"]`)
    await row.waitFor({ timeout: 15_000 })

    // The chart really drew something: the canvas is not blank.
    const painted = await page.$eval('[data-testid="ttfb-chart"]', (c) => {
      const canvas = c as HTMLCanvasElement
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      let n = 0
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) n++
      return n
    })
    expect(painted).toBeGreaterThan(100)

    await row.locator('a').first().click()
    await page.waitForURL(`**/traces/${traceId}`)
    await page.locator('[data-testid="span-row"]').nth(4).waitFor()
    const spanNames = await page.locator('[data-testid="span-row"]').allTextContents()
    expect(spanNames.join('\n')).toContain('chat sim-1')
    expect(await page.locator('[data-testid="log-row"]').count()).toBeGreaterThan(0)
    await page.close()
  })
})
