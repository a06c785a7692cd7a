// Product manager: "what are we spending, on what, for whom?" — cost by model, the top
// users and sessions, the per-day table and its CSV download.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDashboard, type Dashboard } from './support.ts'

const HEAVY = '2b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e01'
const LIGHT = '2b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e02'
const SESSION = '2b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3eaa'
let d: Dashboard

beforeAll(async () => {
  d = await startDashboard()
  const results = await Promise.all([
    d.chat(HEAVY, 'first question', SESSION), d.chat(HEAVY, 'second question', SESSION), d.chat(HEAVY, 'third question', SESSION),
    d.chat(LIGHT, 'one question'),
  ])
  await Promise.all(results.map((r) => d.waitForTrace(r.traceId)))
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

describe('spend', () => {
  it('shows cost by model, who spends, and exports the days as CSV', async () => {
    const page = await d.login('pm')
    await page.goto(`${d.base}/spend?range=24h`)
    await page.waitForSelector('[data-testid="cost-chart"][data-rendered="true"]')
    await page.waitForSelector('[data-testid="tokens-chart"][data-rendered="true"]')
    expect(await page.locator('[data-testid="spend-empty"]').count()).toBe(0)

    const users = await page.locator('[data-testid="top-users"] tbody tr').allTextContents()
    expect(users).toHaveLength(2)
    expect(users[0]).toContain(HEAVY.slice(0, 8))
    const session = page.locator('[data-testid="top-sessions"] tbody tr').first().locator('td')
    expect(await session.nth(0).textContent()).toBe(SESSION.slice(0, 8))
    expect(await session.nth(2).textContent()).toBe('3')

    const today = new Date().toISOString().slice(0, 10)
    const day = page.locator(`[data-testid="spend-days"] tr[data-day="${today}"]`)
    expect(await day.textContent()).toContain('sim-1')

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="csv-export"]')])
    expect(download.suggestedFilename()).toMatch(/^streamscope-spend-.*\.csv$/)
    const csv = readFileSync((await download.path())!, 'utf8')
    const lines = csv.trim().split('\r\n')
    expect(lines[0]).toBe('day,model,requests,input_tokens,output_tokens,cost_usd')
    const row = lines.find((l) => l.startsWith(`${today},sim-1,`))!.split(',')
    expect(Number(row[2])).toBe(4)
    expect(Number(row[5])).toBeGreaterThan(0)
    await page.context().close()
  })

  it('answers the CSV and JSON with the same totals, filtered by user', async () => {
    const res = await d.api(`/api/spend/daily.csv?range=24h&user=${HEAVY}`)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const [, row] = (await res.text()).trim().split('\r\n')
    const json = await (await d.api(`/api/spend?range=24h&user=${HEAVY}`)).json() as { totals: { requests: number; cost_usd: number } }
    expect(Number(row!.split(',')[2])).toBe(3)
    expect(json.totals.requests).toBe(3)
    expect(Number(row!.split(',')[5])).toBeCloseTo(json.totals.cost_usd, 6)
    const tooLong = await d.api('/api/spend?range=custom&from=2026-01-01T00:00&to=2026-03-01T00:00')
    expect(tooLong.status).toBe(400)
    expect((await tooLong.json()).error.message).toContain('31 days')
  })
})
