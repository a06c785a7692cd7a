// Engineer: "what happened to this request?" — the lookup box takes a trace id, a
// traceparent or a message id; the explorer pages and sorts, filters an incident's streams
// (resumed, searched by prompt), saves views for every operator and has presets; the trace
// page shows the token-arrival chart, the timeline, the prompt and answer, and a copyable link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { SECRET, eventually, startDashboard, type ChatResult, type Dashboard } from './support.ts'

const USER = '3b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e01'
let d: Dashboard
let chats: ChatResult[]

beforeAll(async () => {
  // Content capture on: the trace page shows the prompt and the answer.
  d = await startDashboard({ CAPTURE_CONTENT: '1' })
  chats = []
  for (let i = 0; i < 5; i++) chats.push(await d.chat(USER, `question ${i}`))
  expect(chats.every((c) => c.status === 200 && c.messageId)).toBe(true)
  await Promise.all(chats.map((c) => d.waitForTrace(c.traceId)))
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

async function lookup(page: Page, input: string, traceId: string) {
  await page.fill('#trace-lookup-input', input)
  await page.press('#trace-lookup-input', 'Enter')
  await page.waitForURL(`**/traces/${traceId}`)
  const chart = page.locator('[data-testid="arrival-chart"][data-rendered="true"]')
  await chart.waitFor()
  expect(Number(await chart.getAttribute('data-frames'))).toBeGreaterThan(0)
}

describe('lookup box', () => {
  it('opens the stream from a trace id, a traceparent and a message id', async () => {
    const page = await d.login('engineer')
    const [a, b, c] = chats as [ChatResult, ChatResult, ChatResult]
    await lookup(page, a.traceId.toUpperCase(), a.traceId)
    await page.goto(`${d.base}/spend`)
    await lookup(page, ` ${b.traceparent!} `, b.traceId)
    await page.goto(`${d.base}/health`)
    await lookup(page, c.messageId!, c.traceId)

    // The trace page: status, frames, timeline with logs, the link to share.
    expect(await page.textContent('[data-testid="trace-status"]')).toBe('done')
    expect(await page.locator('[data-testid="log-row"]').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid="timeline-span"]').count()).toBeGreaterThan(3)
    expect(await page.textContent('[data-testid="permalink"]')).toBe(`${d.base}/traces/${c.traceId}`)
    const conversation = page.locator('[data-testid="conversation"]')
    expect(await conversation.locator('.turn.user').last().textContent()).toContain('question 2')
    expect((await conversation.locator('.turn.assistant').textContent())!.length).toBeGreaterThan(10)
    await page.context().close()
  })

  it('says what it expected for anything else, and 404s an unknown message', async () => {
    const page = await d.login('engineer')
    await page.fill('#trace-lookup-input', 'not-an-id')
    await page.press('#trace-lookup-input', 'Enter')
    await page.waitForSelector('#trace-lookup-error')
    expect(await page.textContent('#trace-lookup-error')).toContain('message id')
    const res = await page.goto(`${d.base}/traces?id=${crypto.randomUUID()}`)
    expect(res!.status()).toBe(404)
    expect(await page.textContent('[data-testid="error-page"]')).toContain('No stored message')
    const api = await d.api(`/api/lookup?q=${chats[3]!.messageId}`)
    expect(await api.json()).toEqual({ trace_id: chats[3]!.traceId, via: 'message' })
    await page.context().close()
  })
})

describe('streams explorer', () => {
  it('pages with Next/Previous and sorts by a column, all in the URL', async () => {
    const page = await d.login('engineer')
    await page.goto(`${d.base}/streams?range=1h&limit=2`)
    const go = async (testid: string) => {
      const from = page.url()
      await page.click(`[data-testid="${testid}"]`)
      await page.waitForURL((u) => u.href !== from)
    }
    const ids = () => page.locator('[data-testid="stream-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')))
    const newest = [...chats].reverse().map((c) => c.traceId)
    expect(await ids()).toEqual(newest.slice(0, 2))
    await go('page-next')
    expect(await ids()).toEqual(newest.slice(2, 4))
    await go('page-next')
    expect(await ids()).toEqual(newest.slice(4, 5))
    expect(await page.locator('[data-testid="page-next"]').count()).toBe(0)
    await go('page-prev')
    expect(new URL(page.url()).searchParams.has('before')).toBe(true)
    expect(await ids()).toEqual(newest.slice(2, 4))

    await go('sort-ttfb')
    expect(new URL(page.url()).searchParams.get('sort')).toBe('ttfb')
    expect(new URL(page.url()).searchParams.has('before')).toBe(false)
    const json = await (await d.api('/api/streams?range=1h&sort=ttfb&limit=2')).json() as { streams: { trace_id: string; ttfb_ms: number }[] }
    expect(await ids()).toEqual(json.streams.map((s) => s.trace_id))
    expect(json.streams[0]!.ttfb_ms).toBeGreaterThanOrEqual(json.streams[1]!.ttfb_ms)
    const bad = await d.api('/api/streams?after=garbage')
    expect(bad.status).toBe(400)
    await page.context().close()
  })
})

describe('streams explorer, for an incident', () => {
  let resumed: string
  let searched: string

  /** A chat (or, with resume headers, a resume of one) by hand: the response's headers are what count. */
  async function post(content: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${d.base}/functions/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await signUserToken(SECRET, USER)}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ session_id: crypto.randomUUID(), content }),
    })
    await res.text()
    expect(res.status).toBe(200)
    return res.headers
  }

  beforeAll(async () => {
    const first = await post('tell me a story')
    resumed = first.get('x-trace-id')!
    // The client lost the stream after its first delta and resumed it.
    const again = await post('tell me a story', { 'x-resume-stream-id': first.get('x-stream-id')!, 'last-event-id': '1' })
    expect(again.get('x-trace-id')).toBe(resumed)
    searched = (await post('what does an okapi eat?')).get('x-trace-id')!
    await eventually(() => d.api('/api/streams?range=1h&resumed=1').then((r) => r.json()) as Promise<{ streams: { trace_id: string; resumes: number }[] }>,
      (page) => page.streams.some((s) => s.trace_id === resumed && s.resumes === 1))
    await d.waitForTrace(searched)
  }, 60_000)

  const ids = (page: Page) => page.locator('[data-testid="stream-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')))

  it('filters resumed streams and searches prompts from the filter bar; a result opens its trace', async () => {
    const page = await d.login('engineer')
    await page.goto(`${d.base}/streams?range=1h`, { waitUntil: 'networkidle' })
    await Promise.all([page.waitForURL(/resumed=1/), page.check('[data-testid="filter-resumed"]')])
    expect(await ids(page)).toEqual([resumed])
    expect(await page.textContent('[data-testid="resumes"]')).toContain('1')
    await Promise.all([page.waitForURL((u) => !u.searchParams.has('resumed')), page.uncheck('[data-testid="filter-resumed"]')])

    await page.fill('[data-testid="filter-q"]', 'okapi')
    await Promise.all([page.waitForURL(/q=okapi/), page.press('[data-testid="filter-q"]', 'Enter')])
    expect(await ids(page)).toEqual([searched])
    // j moves to the first row's link; Enter follows it.
    await page.locator('[data-testid="filter-q"]').blur()
    await page.keyboard.press('j')
    await Promise.all([page.waitForURL(`**/traces/${searched}`), page.keyboard.press('Enter')])
    await page.context().close()
  })

  it('fits a phone: the filter bar and the views wrap, the table scrolls in its own region', async () => {
    const page = await d.login('engineer')
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${d.base}/streams?range=1h&min_duration_ms=0&function=chat`, { waitUntil: 'networkidle' })
    expect(await page.locator('[data-testid="stream-row"]').count()).toBeGreaterThan(0)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    const region = page.getByRole('region', { name: /^Requests of the last/ })
    expect(await region.getAttribute('tabindex')).toBe('0')
    await page.context().close()
  })

  it('saves the view on screen for every operator, opens and deletes it; presets are one click', async () => {
    const page = await d.login('engineer')
    await page.goto(`${d.base}/streams?range=1h&q=okapi&after=`, { waitUntil: 'networkidle' })
    await page.fill('[data-testid="save-view"] input[name="name"]', 'Okapi questions')
    await page.click('[data-testid="save-view"] button[type="submit"]')
    await page.locator('[data-testid="saved-view"]', { hasText: 'Okapi questions' }).waitFor()
    expect(await page.textContent('[data-testid="views-note"]')).toContain('Saved')

    // Another operator sees it, and it opens the same rows.
    const other = await d.login('colleague')
    await other.goto(`${d.base}/streams?range=24h&function=embed`)
    await Promise.all([other.waitForURL(/q=okapi/), other.click('[data-testid="saved-view"] a')])
    expect(await ids(other)).toEqual([searched])
    expect(await other.getAttribute('[data-testid="saved-view"] a', 'aria-current')).toBe('page')
    await other.click('[data-testid="delete-view"]')
    await other.locator('[data-testid="saved-view"]').waitFor({ state: 'detached' })
    expect((await (await d.api('/api/views')).json()).views).toEqual([])

    await Promise.all([other.waitForURL(/status=error/), other.click('[data-testid="preset-errors-last-hour"]')])
    expect(new URL(other.url()).searchParams.get('range')).toBe('1h')
    expect(await other.getAttribute('[data-testid="preset-errors-last-hour"]', 'aria-current')).toBe('page')
    await page.context().close()
    await other.context().close()
  })
})
