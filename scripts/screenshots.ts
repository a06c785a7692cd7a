// `npm run screenshots -- --url http://127.0.0.1:54321 --token <OPERATOR_TOKEN>`: saves the
// dashboard's pages at 1280×800 (overview in light and dark; the trace page also at a phone's
// 390 px) to docs/screenshots/.
// Run by hand against a server with data (e.g. after `npm run seed:telemetry`), not in CI.
import { mkdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { Page } from 'playwright-core'
import { launchChromium } from '../tests/support/browser.ts'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:54321' },
    token: { type: 'string', default: process.env.OPERATOR_TOKEN ?? 'streamscope-dev-operator' },
    out: { type: 'string', default: 'docs/screenshots' },
    trace: { type: 'string' },
  },
})
const base = values.url!.replace(/\/$/, '')
mkdirSync(values.out!, { recursive: true })

const browser = await launchChromium()
try {
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme, deviceScaleFactor: 1 })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.fill('input[name="name"]', 'screenshots')
    await page.fill('input[name="token"]', values.token!)
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('[data-testid="token-login"] button[type="submit"]')])

    const shoot = async (path: string, name: string, ready: (p: Page) => Promise<unknown>, fullPage = false) => {
      await page.goto(`${base}${path}`)
      await ready(page)
      await page.waitForTimeout(300)
      await page.screenshot({ path: `${values.out}/${name}-${scheme}.png`, fullPage })
      console.error(`saved ${values.out}/${name}-${scheme}.png`)
    }
    const charts = (p: Page) => p.waitForSelector('canvas[data-rendered="true"]', { timeout: 30_000 })

    await shoot('/?range=24h', 'overview', charts)
    if (scheme === 'dark') continue
    await shoot('/spend?range=30d', 'spend', charts)
    await shoot('/streams?range=24h', 'streams', (p) => p.waitForSelector('[data-testid="stream-row"], [data-testid="explorer-empty"]'))
    await shoot('/health', 'health', charts)
    await shoot('/alerts', 'alerts', (p) => p.waitForSelector('[data-testid="rule-form"]'))
    // A stream with a stall when there is one: the trace page's most telling view.
    type Listed = { trace_id: string; stalls: number | null; end_reason: string | null; session_id: string | null; user_id: string | null }
    const streams = await page.goto(`${base}/api/streams?range=24h&sort=duration&limit=200`).then(async (r) => (await r!.json() as { streams: Listed[] }).streams)
    const chosen = streams.find((s) => values.trace ? s.trace_id === values.trace : (s.stalls ?? 0) > 0) ?? streams.find((s) => s.end_reason === 'done') ?? streams[0]
    const arrival = (p: Page) => p.waitForSelector('[data-testid="arrival-chart"][data-rendered="true"], [data-testid="arrival-empty"]')
    if (chosen) {
      await shoot(`/traces/${chosen.trace_id}`, 'trace', arrival, true)
      const other = streams.find((s) => s.end_reason === 'done' && s.trace_id !== chosen.trace_id)
      if (other) await shoot(`/compare?a=${chosen.trace_id}&b=${other.trace_id}`, 'compare', arrival, true)
      if (chosen.session_id) await shoot(`/sessions/${chosen.session_id}`, 'session', (p) => p.waitForSelector('h1'))
      if (chosen.user_id) await shoot(`/users/${chosen.user_id}`, 'user', (p) => p.waitForSelector('h1'))
      await page.setViewportSize({ width: 390, height: 844 })
      await shoot(`/traces/${chosen.trace_id}`, 'trace-phone', arrival, true)
    }
    await context.close()
  }
} finally {
  await browser.close()
}
