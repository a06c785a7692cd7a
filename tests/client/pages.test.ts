// The chat and embed pages in real headless Chromium, served by the real server through the
// connection-cutting proxy (same origin, so the page's own fetches cross the cuts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { userIdFromEmail } from '../../server/local-auth.ts'
import { launchChromium } from '../support/browser.ts'
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const SECRET = 'client-pages-secret-at-least-32-characters'
const EMAIL = 'pages@example.test'

let db: TestDatabase
let server: RunningServer
let proxy: CutProxy
let browser: Browser
let page: Page

beforeAll(async () => {
  db = await freshDatabase()
  ;[server, browser] = await Promise.all([
    startServer({
      DATABASE_URL: db.url, JWT_SECRET: SECRET, LOCAL_AUTH: '1', RESUME_GRACE_SECONDS: '30',
      SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '100', SIM_MIN_TOKENS: '60', SIM_MAX_TOKENS: '90',
      SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
    }),
    launchChromium(),
  ])
  proxy = await startCutProxy(server.baseUrl)
  page = await browser.newPage()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await proxy?.close()
  await server?.stop()
  await db?.drop()
})

// The chat request itself, not the timing beacon the page posts to /functions/v1/chat/beacon.
const isChat = (path: string) => path.split('?')[0] === '/functions/v1/chat'

async function assistantRow(traceId: string) {
  const [row] = await db.sql<{ content: string; status: string }[]>`
    select content, status from public.messages where trace_id = ${traceId} and role = 'assistant'`
  return row
}

describe('chat page', () => {
  it('signs in with a local user without the operator token', async () => {
    await page.goto(`${proxy.url}/chat`)
    expect(new URL(page.url()).pathname).toBe('/chat')
    await page.fill('[data-testid="signin-email"]', EMAIL)
    await page.click('[data-testid="signin-submit"]')
    await page.waitForSelector('[data-testid="chat-input"]')
    expect(await page.textContent('[data-testid="signed-in-as"]')).toContain(EMAIL)
  })

  it('shows a stream that survives a network cut, visibly, ending with exactly the stored answer', async () => {
    let chats = 0
    // The first answer is cut ~2.5 KB in (a dozen frames); the resume goes through.
    proxy.setPlan(({ path }) => (isChat(path) && ++chats === 1 ? 2500 : null))
    await page.fill('[data-testid="chat-input"]', 'tell me about streams')
    await page.click('[data-testid="chat-send"]')
    const turn = page.locator('[data-testid="assistant-turn"]').last()
    await turn.and(page.locator('[data-status="done"]')).waitFor({ timeout: 20_000 })
    proxy.setPlan(() => null)

    expect(await turn.locator('[data-testid="reconnect-status"]').textContent()).toMatch(/^reconnected: resumed from #\d+$/)
    const traceId = await turn.getAttribute('data-trace-id')
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(await turn.locator('[data-testid="trace-id"]').textContent()).toBe(traceId)
    expect(await turn.locator('a[href^="/traces/"]').getAttribute('href')).toBe(`/traces/${traceId}`)
    const shown = await turn.locator('[data-testid="answer-text"]').textContent()
    const stored = await assistantRow(traceId!)
    expect(stored?.status).toBe('complete')
    expect(shown).toBe(stored!.content)
    expect(chats).toBe(2)
  })

  it('stops an answer with the Stop button; the server, which cannot tell a Stop from a lost connection, finishes and stores it', async () => {
    await page.fill('[data-testid="chat-input"]', 'a second question')
    await page.click('[data-testid="chat-send"]')
    const turn = page.locator('[data-testid="assistant-turn"]').last()
    await turn.locator('[data-testid="answer-text"]').filter({ hasText: /\S/ }).waitFor()
    await page.click('[data-testid="chat-stop"]')
    await turn.and(page.locator('[data-status="stopped"]')).waitFor()
    const traceId = await turn.getAttribute('data-trace-id')
    await until(async () => (await assistantRow(traceId!))?.status, 'the answer to be stored').catch(() => {})
    const row = await assistantRow(traceId!)
    expect(row?.status).toBe('complete')
    // The page stopped at or before what the server generated, and agrees with it so far.
    const shown = (await turn.locator('[data-testid="answer-text"]').textContent())!
    expect(row!.content.startsWith(shown)).toBe(true)
  })

  it('keeps conversations across a reload and starts new ones', async () => {
    await page.reload()
    await page.waitForSelector('[data-testid="chat-input"]')
    expect(await page.locator('[data-testid="assistant-turn"]').count()).toBe(2)
    await page.click('[data-testid="new-chat"]')
    expect(await page.locator('[data-testid="session-item"]').count()).toBe(2)
    expect(await page.locator('[data-testid="assistant-turn"]').count()).toBe(0)
  })
})

describe('embed page', () => {
  it('embeds dropped and chosen files with progress, and lists what was stored', async () => {
    await page.goto(`${proxy.url}/embed`)
    const long = Array.from({ length: 30 }, (_, i) => `Paragraph ${i}. ${'Streams carry tokens in order. '.repeat(12)}`).join('\n\n')
    // A real drop event carrying a File, as the browser makes one from a desktop drag.
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer()
      dt.items.add(new File([text], 'dropped.txt', { type: 'text/plain' }))
      return dt
    }, long)
    await page.dispatchEvent('[data-testid="dropzone"]', 'drop', { dataTransfer })
    await page.setInputFiles('[data-testid="file-input"]', { name: 'chosen.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nshort file') })
    expect(await page.locator('[data-testid="pending-file"]').count()).toBe(2)

    await page.click('[data-testid="embed-upload"]')
    await page.locator('[data-testid="stored-document"]').nth(1).waitFor({ timeout: 20_000 })
    const progress = page.locator('[data-testid="embed-progress"]')
    expect(await progress.getAttribute('value')).toBe(await progress.getAttribute('max'))

    const userId = await userIdFromEmail(EMAIL)
    for (const row of await page.locator('[data-testid="stored-document"]').all()) {
      const documentId = await row.getAttribute('data-document-id')
      const [{ n }] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from public.document_embeddings where user_id = ${userId} and document_id = ${documentId}`
      expect(n).toBeGreaterThan(0)
      expect(await row.locator('[data-testid="stored-chunks"]').textContent()).toBe(String(n))
    }
    // The long file went in as more than one input and came back as several chunks.
    const [{ chunks }] = await db.sql<{ chunks: number }[]>`
      select count(*)::int as chunks from public.document_embeddings where user_id = ${userId} and metadata->>'filename' = 'dropped.txt'`
    expect(chunks).toBeGreaterThan(2)
  })
})
