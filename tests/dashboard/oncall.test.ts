// On-call: "is something wrong, and what?" — KPIs and charts from real chat requests,
// updating live without a reload, and filters that live in the URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDashboard, eventually, type Dashboard } from './support.ts'

const ALICE = '1b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e01'
const BOB = '1b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e02'
let d: Dashboard

beforeAll(async () => {
  d = await startDashboard()
  const first = await Promise.all([d.chat(ALICE), d.chat(ALICE), d.chat(BOB)])
  expect(first.map((r) => r.status)).toEqual([200, 200, 200])
  await Promise.all(first.map((r) => d.waitForTrace(r.traceId)))
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

describe('overview', () => {
  it('shows KPIs and four drawn charts, and new requests appear without a reload', async () => {
    const page = await d.login('oncall')
    await page.goto(`${d.base}/?range=15m`)
    for (const chart of ['ttfb-chart', 'duration-chart', 'requests-chart', 'errors-chart']) {
      await page.waitForSelector(`[data-testid="${chart}"][data-rendered="true"]`)
    }
    const requests = () => page.getAttribute('[data-testid="kpi-requests"]', 'data-value').then(Number)
    expect(await requests()).toBe(3)
    expect(await page.textContent('[data-testid="kpi-ttfb-p50"]')).toMatch(/\d+(\.\d)?\s*ms/)
    await page.waitForSelector('[data-testid="live"][data-state="live"]')

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42 })
    const more = await Promise.all([d.chat(BOB), d.chat(BOB)])
    expect(more.map((r) => r.status)).toEqual([200, 200])
    const started = Date.now()
    await eventually(requests, (n) => n === 5, 20_000)
    const seconds = (Date.now() - started) / 1000
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42)
    console.log(`[oncall] new requests visible on the overview ${seconds.toFixed(1)} s after their responses ended`)
    await page.context().close()
  })

  it('puts the range and filters in the URL, and the URL reproduces the view', async () => {
    const page = await d.login('oncall')
    await page.goto(`${d.base}/?range=15m`)
    await page.click('[data-testid="range-picker"] a:text-is("1h")')
    await page.waitForURL((u) => u.searchParams.get('range') === '1h')

    await page.fill('[data-testid="filters"] input[name="user"]', ALICE)
    await page.press('[data-testid="filters"] input[name="user"]', 'Enter')
    await page.waitForURL((u) => u.searchParams.get('user') === ALICE)
    await page.selectOption('[data-testid="filters"] select[name="status"]', 'ok')
    await page.waitForURL((u) => u.searchParams.get('status') === 'ok')
    await page.waitForFunction(() => document.querySelector('[data-testid="kpi-requests"]')?.getAttribute('data-value') === '2')
    const url = page.url()
    expect(new URL(url).search).toBe(`?range=1h&status=ok&user=${ALICE}`)

    // The same link in a fresh page: the same filters, the same numbers.
    const other = await d.login('someone else')
    await other.goto(url)
    expect(await other.inputValue('[data-testid="filters"] select[name="status"]')).toBe('ok')
    expect(await other.inputValue('[data-testid="filters"] input[name="user"]')).toBe(ALICE)
    expect(await other.getAttribute('[data-testid="kpi-requests"]', 'data-value')).toBe('2')
    const rows = await other.locator('[data-testid="stream-row"]').count()
    expect(rows).toBe(2)

    await other.click('[data-testid="clear-filters"]')
    await other.waitForURL((u) => !u.searchParams.has('user'))
    await other.waitForFunction(() => Number(document.querySelector('[data-testid="kpi-requests"]')?.getAttribute('data-value')) >= 5)
    await page.context().close()
    await other.context().close()
  })

  it('serves the same numbers as JSON, and says what is wrong with a bad range', async () => {
    const res = await d.api(`/api/overview?range=1h&user=${BOB}`)
    const body = await res.json() as { kpis: { current: { requests: number; error_rate: number } }; points: unknown[] }
    expect(body.kpis.current.requests).toBe(3)
    expect(body.kpis.current.error_rate).toBe(0)
    const bad = await d.api('/api/overview?range=2h')
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe('invalid_request')

    const page = await d.login('oncall')
    const response = await page.goto(`${d.base}/?range=custom&from=tomorrow`)
    expect(response!.status()).toBe(400)
    expect(await page.textContent('[data-testid="error-page"]')).toContain('from must be a date and time')
    await page.context().close()
  })
})
