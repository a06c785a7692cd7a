// Pages everyone can use: every page passes axe-core's WCAG 2.1 A and AA rules in real Chromium,
// at a desktop's width and a phone's, in the light and the dark colour scheme, and none is wider
// than the phone (a wide table scrolls inside its own focusable box). The tables with row links
// move with j/k and open with Enter; `/` jumps to the lookup box unless one is typing.
import AxeBuilder from '@axe-core/playwright'
import type { Result } from 'axe-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { until } from '../support/wait.ts'
import { startDashboard, type ChatResult, type Dashboard } from './support.ts'

const USER_A = '4c0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e01'
const USER_B = '4c0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e02'
const SESSION = '4c0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3eaa'

/** The data the pages show: real chats made before the audit. */
interface Fixture {
  chats: ChatResult[]
  /** A chat refused with a 400: a trace that ended early. */
  rejected: ChatResult
  user: string
  session: string
}

type Who = 'operator' | 'user' | 'anonymous'

interface Audited {
  name: string
  path: (f: Fixture) => string
  /** Who looks: an operator (the default), a signed-in user of the chat and embed apps, or nobody. */
  as?: Who
  /** What shows once the page is ready (default: its h1). */
  ready?: string
  /** Something to do before the audit, e.g. open a dialog. */
  act?: (page: Page) => Promise<void>
}

// Every page, once. A new page joins the audit with one line here.
const PAGES: Audited[] = [
  { name: 'overview', path: () => '/?range=1h' },
  { name: 'streams', path: () => '/streams?range=1h' },
  { name: 'spend', path: () => '/spend?range=24h' },
  { name: 'health', path: () => '/health' },
  { name: 'health, switch confirmation', path: () => '/health', act: (p) => p.click('[data-testid="transport-switch"]') },
  { name: 'trace', path: (f) => `/traces/${f.chats[0]!.traceId}` },
  { name: 'trace, a span opened', path: (f) => `/traces/${f.chats[0]!.traceId}`, act: (p) => p.locator('[data-testid="span-row"] button').first().click() },
  { name: 'trace of a rejected request', path: (f) => `/traces/${f.rejected.traceId}` },
  { name: 'trace not found', path: () => `/traces/${'0'.repeat(31)}1` },
  { name: 'bad request', path: () => '/streams?range=someday' },
  { name: 'session', path: (f) => `/sessions/${f.session}` },
  { name: 'user', path: (f) => `/users/${f.user}` },
  { name: 'compare', path: (f) => `/compare?a=${f.chats[0]!.traceId}&b=${f.chats[1]!.traceId}` },
  { name: 'compare, no ids yet', path: () => '/compare' },
  { name: 'alerts', path: () => '/alerts' },
  { name: 'login', path: () => '/login', as: 'anonymous' },
  { name: 'chat, signed out', path: () => '/chat', as: 'anonymous', ready: '[data-testid="signin-email"]' },
  { name: 'embed, signed out', path: () => '/embed', as: 'anonymous', ready: '[data-testid="signin-email"]' },
  { name: 'chat', path: () => '/chat', as: 'user', ready: '[data-testid="assistant-turn"][data-status="done"]' },
  { name: 'embed', path: () => '/embed', as: 'user', ready: '[data-testid="stored-document"]' },
]

const VIEWS = [
  { name: 'desktop, light', width: 1280, height: 800, scheme: 'light' },
  { name: 'desktop, dark', width: 1280, height: 800, scheme: 'dark' },
  { name: 'phone, light', width: 390, height: 844, scheme: 'light' },
  { name: 'phone, dark', width: 390, height: 844, scheme: 'dark' },
] as const

const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']

let d: Dashboard
let fixture: Fixture
const contexts = {} as Record<Who, BrowserContext>

beforeAll(async () => {
  d = await startDashboard({ CAPTURE_CONTENT: '1', LOCAL_AUTH: '1' })
  const chats = [await d.chat(USER_A, 'first question', SESSION), await d.chat(USER_A, 'second question', SESSION), await d.chat(USER_B, 'a question')]
  expect(chats.map((c) => c.status)).toEqual([200, 200, 200])
  const rejected = await d.chat(USER_B, 'no session', 'not-a-session')
  expect(rejected.status).toBe(400)
  await Promise.all(chats.map((c) => d.waitForTrace(c.traceId)))
  await until(async () => (await d.api(`/api/traces/${rejected.traceId}`)).status === 200, 'the rejected request\'s trace')
  fixture = { chats, rejected, user: USER_A, session: SESSION }

  contexts.operator = (await d.login('auditor')).context()
  contexts.anonymous = await d.browser.newContext()
  contexts.user = await d.browser.newContext()
  await useTheApps(await contexts.user.newPage())
}, 180_000)

afterAll(async () => {
  await d?.stop()
})

/** Signs in to the chat app, has one answer streamed and one file embedded: the apps keep them in the browser. */
async function useTheApps(page: Page) {
  await page.goto(`${d.base}/chat`)
  await page.fill('[data-testid="signin-email"]', 'audit@example.test')
  await page.click('[data-testid="signin-submit"]')
  await page.fill('[data-testid="chat-input"]', 'hello from the audit')
  await page.click('[data-testid="chat-send"]')
  await page.locator('[data-testid="assistant-turn"][data-status="done"]').waitFor({ timeout: 20_000 })
  await page.goto(`${d.base}/embed`)
  await page.setInputFiles('[data-testid="file-input"]', { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nA short file to embed.') })
  await page.click('[data-testid="embed-upload"]')
  await page.locator('[data-testid="stored-document"]').waitFor({ timeout: 20_000 })
  await page.close()
}

async function open(target: Audited, view: (typeof VIEWS)[number]): Promise<Page> {
  const page = await contexts[target.as ?? 'operator'].newPage()
  await page.setViewportSize({ width: view.width, height: view.height })
  await page.emulateMedia({ colorScheme: view.scheme })
  await page.goto(`${d.base}${target.path(fixture)}`)
  await page.locator(target.ready ?? 'main h1').first().waitFor()
  // Charts draw after hydration; the audit reads the page as it settles.
  await page.waitForFunction(() => [...document.querySelectorAll('canvas')].every((c) => c.dataset.rendered === 'true'))
  await target.act?.(page)
  return page
}

/** axe's findings as a person reads them: rule, impact, what to fix, and where. */
function readable(violations: Result[]): string {
  return violations.map((v) => [
    `${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}`,
    ...v.nodes.map((n) => `  at ${n.target.join(' ')}\n    ${(n.failureSummary ?? '').replaceAll('\n', '\n    ')}`),
  ].join('\n')).join('\n\n')
}

/** The innermost elements that reach past the right edge of the window, to say what is too wide. */
function tooWide(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const edge = window.innerWidth
    const beyond = (el: Element) => el.getBoundingClientRect().right > edge + 0.5
    // Inside a box that scrolls or clips and itself fits, an element only scrolls that box; one
    // absolutely placed escapes every box up to the positioned one it is placed in.
    const placed = (style: CSSStyleDeclaration) => style.position === 'absolute' || style.position === 'fixed'
    const clipped = (el: Element) => {
      let escaping = placed(getComputedStyle(el))
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const style = getComputedStyle(p)
        if (escaping && style.position === 'static') continue
        if (style.overflowX !== 'visible' && !beyond(p)) return true
        escaping = placed(style)
      }
      return false
    }
    const over = [...document.body.querySelectorAll('*')].filter((el) => beyond(el) && !clipped(el))
    return over
      .filter((el) => !over.some((other) => other !== el && el.contains(other)))
      .slice(0, 8)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} (right edge ${Math.round(el.getBoundingClientRect().right)} px)`)
  })
}

describe.each(PAGES)('$name', (target) => {
  it.each(VIEWS)('meets WCAG 2.1 AA: $name', async (view) => {
    const page = await open(target, view)
    try {
      const { violations } = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze()
      // Soft, so that a phone's page also says whether it is too wide.
      expect.soft(readable(violations)).toBe('')
      if (view.width < 500) {
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }))
        expect(scrollWidth, `the page scrolls sideways; too wide: ${(await tooWide(page)).join(', ')}`).toBeLessThanOrEqual(innerWidth)
      }
    } finally {
      await page.close()
    }
  })
})

/** Where focus is: `<table testid>#<row index>`, or the focused element's id or tag. */
function focus(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement
    const row = active?.closest('tbody tr')
    const table = row?.closest('table')
    if (row && table) return `${table.dataset.testid}#${[...table.tBodies[0]!.rows].indexOf(row as HTMLTableRowElement)}`
    return active?.id || active?.tagName.toLowerCase() || 'nothing'
  })
}

describe('keyboard', () => {
  it('moves through a table with j and k, stays in the table that has focus, and opens a row with Enter', async () => {
    const page = await open({ name: 'spend', path: () => '/spend?range=24h' }, VIEWS[0])
    // Users A and B, and the one who chatted in the app.
    const users = await page.locator('[data-testid="top-users"] tbody tr').count()
    expect(users).toBe(3)
    expect(await page.locator('[data-testid="top-sessions"] tbody tr').count()).toBeGreaterThanOrEqual(2)
    expect(await focus(page)).toBe('body')

    const keys = async (...pressed: string[]) => {
      for (const key of pressed) await page.keyboard.press(key)
      return focus(page)
    }
    expect(await keys('j')).toBe('top-users#0')
    expect(await keys('j')).toBe('top-users#1')
    // Held at the ends.
    expect(await keys(...Array<string>(users).fill('j'))).toBe(`top-users#${users - 1}`)
    expect(await keys('k')).toBe(`top-users#${users - 2}`)
    expect(await keys(...Array<string>(users).fill('k'))).toBe('top-users#0')

    // The other table, once it has focus, takes the keys.
    await page.locator('[data-testid="top-sessions"] tbody tr a').first().focus()
    expect(await keys('j')).toBe('top-sessions#1')
    expect(await keys('k')).toBe('top-sessions#0')

    // In a field, j and k are letters.
    await page.fill('input[name="model"]', '')
    await page.focus('input[name="model"]')
    await page.keyboard.type('jk')
    expect(await page.inputValue('input[name="model"]')).toBe('jk')
    expect(await focus(page)).toBe('input')

    await page.locator('[data-testid="top-users"] tbody tr a').first().focus()
    expect(await keys('j')).toBe('top-users#1')
    const href = await page.evaluate(() => (document.activeElement as HTMLAnchorElement).href)
    await Promise.all([page.waitForURL(href), page.keyboard.press('Enter')])
    expect(new URL(page.url()).pathname).toBe('/streams')
    expect(new URL(page.url()).searchParams.get('user')).toMatch(/^4c0c6f2e-/)
    await page.close()
  })

  it('jumps to the lookup box with /, unless typing in a field', async () => {
    const page = await open({ name: 'health', path: () => '/health' }, VIEWS[0])
    expect(await focus(page)).toBe('body')
    await page.keyboard.press('/')
    expect(await focus(page)).toBe('trace-lookup-input')
    // The key moved focus; it typed nothing.
    expect(await page.inputValue('#trace-lookup-input')).toBe('')
    await page.keyboard.type('a/b')
    expect(await page.inputValue('#trace-lookup-input')).toBe('a/b')

    await page.goto(`${d.base}/streams?range=1h`)
    await page.focus('input[name="model"]')
    await page.keyboard.type('org/model')
    expect(await page.inputValue('input[name="model"]')).toBe('org/model')
    expect(await focus(page)).toBe('input')
    await page.close()
  })
})
