// Whole stack: a real chat and its client's beacon show up as inter-token latency, tokens/s and
// client against server TTFB on the overview (tiles, charts, the per-model table), in
// /api/overview, and per stream on the trace page and in /api/traces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { formatMs } from '../../dashboard/src/lib/format.ts'
import { HIST_GROWTH } from '../../dashboard/src/lib/hist.ts'
import type { OverviewRates, StreamStats } from '../../dashboard/src/lib/types.ts'
import { SECRET, startDashboard, eventually, type Dashboard, type ChatResult } from './support.ts'

const USER = '2c0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e11'
let d: Dashboard
let chat: ChatResult
let serverTtfb: number
const CLIENT_EXTRA_MS = 150

beforeAll(async () => {
  d = await startDashboard()
  chat = await d.chat(USER)
  expect(chat.status).toBe(200)
  await d.waitForTrace(chat.traceId)
  const trace = await (await d.api(`/api/traces/${chat.traceId}`)).json() as { spans: { kind: string; function: string | null; ttfb_ms: number }[] }
  serverTtfb = trace.spans.find((s) => s.kind === 'server' && s.function === 'chat')!.ttfb_ms
  const beacon = await fetch(`${d.base}/functions/v1/chat/beacon`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stream_id: chat.messageId, client_ttfb_ms: serverTtfb + CLIENT_EXTRA_MS, client_duration_ms: 5000 }),
  })
  expect(beacon.status).toBe(204)
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

const overviewRates = async () => ((await (await d.api('/api/overview?range=15m')).json()) as { rates: OverviewRates }).rates

describe('stream rates', () => {
  it('reaches /api/overview: ITL and tokens/s of the stream, the beacon against the server', async () => {
    const rates = await eventually(overviewRates, (r) => r.current.beacons === 1, 20_000)
    const r = rates.current
    expect(r.streams).toBe(1)
    expect(r.itl_p50).not.toBeNull()
    expect(r.tps_p50).toBeGreaterThan(0)
    // One value in each histogram: read back within its bucket.
    expect(r.client_ttfb_p50!).toBeGreaterThan((serverTtfb + CLIENT_EXTRA_MS) / HIST_GROWTH)
    expect(r.client_ttfb_p50!).toBeLessThanOrEqual((serverTtfb + CLIENT_EXTRA_MS) * HIST_GROWTH)
    expect(r.net_ttfb_p50!).toBeGreaterThan(CLIENT_EXTRA_MS / HIST_GROWTH)
    expect(r.net_ttfb_p50!).toBeLessThanOrEqual(CLIENT_EXTRA_MS * HIST_GROWTH)
    expect(rates.models).toHaveLength(1)
    expect(rates.models[0]!.streams).toBe(1)
    expect(rates.points.reduce((n, p) => n + p.beacons, 0)).toBe(1)
  })

  it('reaches /api/traces: the stream’s exact gaps, speed and client timing', async () => {
    const trace = await (await d.api(`/api/traces/${chat.traceId}`)).json() as {
      streams: StreamStats[]; spans: { kind: string; function: string | null; frame_offsets_ms: number[] }[]
    }
    const offsets = trace.spans.find((s) => s.kind === 'server' && s.function === 'chat')!.frame_offsets_ms
    const gaps = offsets.slice(1).map((v, i) => v - offsets[i]!).sort((a, b) => a - b)
    const mid = (gaps.length - 1) / 2
    expect(trace.streams).toHaveLength(1)
    const s = trace.streams[0]!
    expect(s.itl_p50).toBeCloseTo((gaps[Math.floor(mid)]! + gaps[Math.ceil(mid)]!) / 2, 3)
    expect(s.client_ttfb_ms).toBe(serverTtfb + CLIENT_EXTRA_MS)
    expect(s.client_duration_ms).toBe(5000)
    expect(s.ttfb_ms).toBe(serverTtfb)
  })

  it('draws the charts and the table on the overview, and the stream on the trace page', async () => {
    const page = await d.login('oncall')
    await page.goto(`${d.base}/?range=15m`)
    for (const chart of ['itl-chart', 'tps-chart', 'client-ttfb-chart']) {
      await page.waitForSelector(`[data-testid="${chart}"][data-rendered="true"]`)
    }
    expect(await page.textContent('[data-testid="kpi-itl-p95"]')).toMatch(/\d\s*ms/)
    expect(await page.textContent('[data-testid="kpi-client-ttfb-p50"]')).toMatch(/network \+ proxy \d/)
    expect(await page.locator('[data-testid="model-rates"] tbody tr').count()).toBe(1)
    expect(await page.textContent('[data-testid="kpi-error-rate"]')).toContain('4xx')

    await page.goto(`${d.base}/traces/${chat.traceId}`)
    const stats = page.locator('[data-testid="stream-stats"]')
    await stats.waitFor()
    const shown = await page.textContent('[data-testid="stream-client-ttfb"]')
    expect(shown).toBe(`${formatMs(serverTtfb + CLIENT_EXTRA_MS)} / ${formatMs(serverTtfb)}`)
    expect(await page.textContent('[data-testid="stream-tps"]')).toMatch(/\d/)
    await page.context().close()
  })
})
