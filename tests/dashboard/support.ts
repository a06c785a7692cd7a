import type { Browser, Page } from 'playwright-core'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { launchChromium } from '../support/browser.ts'
import { framesOf } from '../support/chat-fixture.ts'
import { until } from '../support/wait.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'

export const SECRET = 'dashboard-test-secret-at-least-32-characters'
/** At least 32 characters: the dashboard refuses a shorter OPERATOR_TOKEN outside development. */
export const OPERATOR = 'dashboard-test-operator-token-32-characters-or-more'

export interface Dashboard {
  db: TestDatabase
  server: RunningServer
  browser: Browser
  base: string
  /** A real chat request through the functions, as a signed-in user. */
  chat(user: string, content?: string, session?: string): Promise<ChatResult>
  /** A new page, logged in as `name`. */
  login(name?: string, options?: { colorScheme?: 'light' | 'dark' }): Promise<Page>
  /** GET an API path with the operator's bearer token. */
  api(path: string): Promise<Response>
  waitForTrace(traceId: string): Promise<void>
  stop(): Promise<void>
}

export interface ChatResult {
  status: number
  traceId: string
  traceparent: string | null
  transport: string | null
  messageId: string | undefined
  events: string[]
}

export async function startDashboard(env: Record<string, string> = {}): Promise<Dashboard> {
  const db = await freshDatabase()
  const [server, browser] = await Promise.all([
    startServer({
      DATABASE_URL: db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR,
      SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '400', SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
      ...env,
    }),
    launchChromium(),
  ])
  const base = server.baseUrl
  const api = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${OPERATOR}` } })

  return {
    db, server, browser, base, api,
    async chat(user, content = 'hello from the dashboard tests', session = crypto.randomUUID()) {
      const res = await fetch(`${base}/functions/v1/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await signUserToken(SECRET, user)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ session_id: session, content }),
      })
      const text = await res.text()
      const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream')
      const frames = sse ? framesOf(text) : []
      const done = frames.find((f) => f.event === 'chat.done')
      const json = !sse && text ? (JSON.parse(text) as { message_id?: string }) : undefined
      return {
        status: res.status,
        traceId: res.headers.get('x-trace-id')!,
        traceparent: res.headers.get('traceparent'),
        transport: res.headers.get('x-chat-transport'),
        messageId: done?.data?.message_id ?? json?.message_id,
        events: frames.map((f) => f.event),
      }
    },
    async login(name = 'operator', options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light' })
      const page = await context.newPage()
      // Hydration sets the inputs' values again (value={form?.name ?? ''}): wait for the page's
      // scripts, then fill, and fill again if hydration still landed after the first fill.
      await page.goto(`${base}/login`, { waitUntil: 'networkidle' })
      for (let i = 0; i < 20; i++) {
        await page.fill('input[name="name"]', name)
        await page.fill('input[name="token"]', OPERATOR)
        await page.waitForTimeout(i === 0 ? 0 : 50)
        if (await page.inputValue('input[name="name"]') === name && await page.inputValue('input[name="token"]') === OPERATOR) break
      }
      await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('[data-testid="token-login"] button[type="submit"]')])
      return page
    },
    async waitForTrace(traceId) {
      await until(async () => {
        const res = await api(`/api/traces/${traceId}`)
        // Child spans are exported before the request's own span ends: wait for that one. Logs go
        // in a write of their own (spans first, then logs): a trace with a request span has logs.
        const body = res.status === 200 ? await res.json() as { spans: { kind: string; function: string | null }[]; logs: unknown[] } : await res.body?.cancel()
        return body?.spans.some((s) => s.kind === 'server' && s.function) && body.logs.length > 0
      }, `trace ${traceId} to become visible`)
    },
    async stop() {
      await browser.close()
      await server.stop()
      await db.drop()
    },
  }
}

/** Waits until `read` returns something `ok` accepts (polling; bounded by `timeoutMs`). */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs
  let last: T
  do {
    last = await read()
    if (ok(last)) return last
    await new Promise((r) => setTimeout(r, 200))
  } while (Date.now() < until)
  throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(last)}`)
}
