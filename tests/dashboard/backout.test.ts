// Operator: the runbook's backout — switch chat_transport from the health page with a
// confirmation, see it in the history with who did it, and the functions follow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDashboard, eventually, OPERATOR, type Dashboard } from './support.ts'

const USER = '4b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e01'
let d: Dashboard

beforeAll(async () => {
  d = await startDashboard()
  const r = await d.chat(USER)
  expect(r.transport).toBe('sse')
  await d.waitForTrace(r.traceId)
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

describe('health and backout', () => {
  it('switches the transport after a confirmation and records who', async () => {
    const page = await d.login('alice')
    await page.goto(`${d.base}/health`)
    await page.waitForSelector('[data-testid="health-windows"]')
    expect(await page.textContent('[data-testid="transport-value"]')).toBe('sse')

    // Cancel first: nothing changes.
    await page.click('[data-testid="transport-switch"]')
    await page.waitForSelector('[data-testid="transport-confirm"][open]')
    await page.click('[data-testid="transport-confirm"] button:text-is("Cancel")')
    expect(await page.locator('[data-testid="transport-confirm"][open]').count()).toBe(0)
    expect(await page.textContent('[data-testid="transport-value"]')).toBe('sse')

    await page.click('[data-testid="transport-switch"]')
    await page.click('[data-testid="transport-confirm-button"]')
    await page.waitForFunction(() => document.querySelector('[data-testid="transport-value"]')?.textContent === 'http')
    const latest = await page.locator('[data-testid="flag-change"]').first().textContent()
    expect(latest).toContain('sse → http')
    expect(latest).toContain('alice')

    // The chat function reads the flag (cached briefly) and answers in one JSON document.
    const answer = await eventually(() => d.chat(USER), (r) => r.transport === 'http', 20_000)
    expect(answer.status).toBe(200)
    expect(answer.events).toEqual([])

    // And back, by API with the bearer token: recorded as "api token".
    const res = await fetch(`${d.base}/api/flags/chat_transport`, {
      method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: '{"value":"sse"}',
    })
    expect(res.status).toBe(200)
    expect((await res.json()).value).toBe('sse')
    await page.reload()
    expect(await page.locator('[data-testid="flag-change"]').first().textContent()).toContain('api token')
    const bad = await fetch(`${d.base}/api/flags/chat_transport`, {
      method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: '{"value":"ws"}',
    })
    expect(bad.status).toBe(400)
    await page.context().close()
  })

  it('shows the SSE health windows with burn rates as JSON too', async () => {
    const body = await (await d.api('/api/health')).json() as { windows: { minutes: number; streams: number; burn_rate: number | null }[]; flag: { value: string } }
    expect(body.windows.map((w) => w.minutes)).toEqual([60, 360, 1440])
    expect(body.windows[0]!.streams).toBeGreaterThan(0)
    expect(body.windows[0]!.burn_rate).toBe(0)
    expect(body.flag.value).toBe('sse')
  })
})
