// Comparing two streams: GET /api/compare gives both traces and what differs, read from their
// request spans; the page overlays both token-arrival curves, draws both waterfalls on one
// scale, and is reached from a trace page's "Compare with…" box.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Comparison, SpanRow } from '../../dashboard/src/lib/types.ts'
import { startDashboard, type ChatResult, type Dashboard } from './support.ts'

const USER = '6b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e21'
let d: Dashboard
let a: ChatResult
let b: ChatResult

beforeAll(async () => {
  d = await startDashboard()
  a = await d.chat(USER, 'a short one')
  b = await d.chat(USER, 'and another question, asked a little later')
  expect([a.status, b.status]).toEqual([200, 200])
  await Promise.all([a, b].map((c) => d.waitForTrace(c.traceId)))
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

const comparing = (x: ChatResult, y: ChatResult) => (u: URL) =>
  u.pathname === '/compare' && u.searchParams.get('a') === x.traceId && u.searchParams.get('b') === y.traceId
const request = (spans: SpanRow[]) => spans.find((s) => s.kind === 'server' && s.function !== null)!

describe('GET /api/compare', () => {
  it('gives both traces and each difference from their request spans', async () => {
    const res = await d.api(`/api/compare?a=${a.traceId}&b=${b.traceId}`)
    expect(res.status).toBe(200)
    const c = await res.json() as Comparison
    expect([c.a.trace_id, c.b.trace_id]).toEqual([a.traceId, b.traceId])
    const [ra, rb] = [request(c.a.spans), request(c.b.spans)]
    const by = Object.fromEntries(c.differences.map((x) => [x.key, x]))
    expect(by.ttfb_ms).toMatchObject({ a: ra.ttfb_ms, b: rb.ttfb_ms, delta: rb.ttfb_ms! - ra.ttfb_ms! })
    expect(by.duration_ms).toMatchObject({ a: ra.duration_ms, b: rb.duration_ms })
    expect(by.output_tokens).toMatchObject({ a: ra.output_tokens, b: rb.output_tokens })
    expect(by.cost_usd).toMatchObject({ a: ra.cost_usd, b: rb.cost_usd })
    expect(by.frames).toMatchObject({ a: ra.frame_offsets_ms!.length, b: rb.frame_offsets_ms!.length })
    expect(by.end_reason).toMatchObject({ a: 'done', b: 'done', delta: null })
    expect(by.spans).toMatchObject({ a: c.a.spans.length, b: c.b.spans.length })
    const gaps = ra.frame_offsets_ms!.slice(1).map((t, i) => t - ra.frame_offsets_ms![i]!).sort((x, y) => x - y)
    expect(gaps.length).toBeGreaterThan(1)
    expect(by.itl_p50_ms!.a).toBeGreaterThanOrEqual(gaps[0]!)
    expect(by.itl_p50_ms!.a).toBeLessThanOrEqual(gaps.at(-1)!)
  })

  it('is a 400 without two trace ids and a 404 naming the side nobody stored', async () => {
    for (const path of [`/api/compare?a=${a.traceId}`, `/api/compare?a=${a.traceId}&b=nope`, `/api/compare?a=${a.traceId.toUpperCase()}&b=${b.traceId}`]) {
      const res = await d.api(path)
      expect(res.status, path).toBe(400)
      expect((await res.json()).error.code, path).toBe('invalid_request')
    }
    const res = await d.api(`/api/compare?a=${a.traceId}&b=${'0'.repeat(31)}1`)
    expect(res.status).toBe(404)
    expect((await res.json()).error).toMatchObject({ code: 'not_found', missing: 'b' })
    expect((await fetch(`${d.base}/api/compare?a=${a.traceId}&b=${b.traceId}`)).status).toBe(401)
  })
})

describe('the compare page', () => {
  it('is reached from the trace page and overlays both streams', async () => {
    const page = await d.login('compare')
    await page.goto(`${d.base}/traces/${a.traceId}`)
    // A traceparent is taken as the lookup box takes it.
    await page.fill('#compare-with-b', b.traceparent!)
    await Promise.all([page.waitForURL(comparing(a, b)), page.press('#compare-with-b', 'Enter')])

    const chart = page.locator('[data-testid="arrival-chart"][data-rendered="true"]')
    await chart.waitFor()
    const c = await (await d.api(`/api/compare?a=${a.traceId}&b=${b.traceId}`)).json() as Comparison
    const frames = (request(c.a.spans).frames ?? 0) + (request(c.b.spans).frames ?? 0)
    expect(await chart.getAttribute('data-series')).toBe('2')
    expect(Number(await chart.getAttribute('data-frames'))).toBe(frames)
    expect(await page.locator('[data-testid="differences"] tbody tr').count()).toBe(c.differences.length)
    expect(await page.locator('[data-testid="waterfall-a"] [data-testid="span-row"]').count()).toBe(c.a.spans.length)
    expect(await page.locator('[data-testid="waterfall-b"] [data-testid="span-row"]').count()).toBe(c.b.spans.length)
    expect(await page.title()).toContain(`Compare ${a.traceId.slice(0, 8)} and ${b.traceId.slice(0, 8)}`)

    await Promise.all([page.waitForURL(comparing(b, a)), page.click('[data-testid="swap"]')])
    expect(await page.textContent('[data-testid="compare-a"]')).toBe(b.traceId)
    await page.context().close()
  })

  it('asks for the ids without them, and answers bad or unknown ones with 400 and 404 pages', async () => {
    const page = await d.login('compare')
    await page.goto(`${d.base}/compare?a=${a.traceId}`)
    expect(await page.inputValue('[data-testid="compare-form"] input[name="a"]')).toBe(a.traceId)
    for (const [path, status] of [[`/compare?a=${a.traceId}&b=nope`, 400], [`/compare?a=${a.traceId}&b=${'f'.repeat(32)}`, 404]] as const) {
      const res = await page.goto(`${d.base}${path}`)
      expect(res!.status(), path).toBe(status)
      await page.locator('[data-testid="error-page"]').waitFor()
    }
    await page.context().close()
  })
})
