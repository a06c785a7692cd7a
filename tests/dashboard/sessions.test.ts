// Sessions and users: a conversation's turns in order, each with its trace, and a user's
// sessions, spend and error rate — through the JSON API and the pages, from real chats; and
// the two queries on a seeded day, as the dashboard role, against the raw spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedTelemetry } from '../../scripts/seed-telemetry.ts'
import { enterDashboardRole, type Db } from '../../dashboard/src/lib/server/rollups.ts'
import { getSession } from '../../dashboard/src/lib/server/sessions.ts'
import { getUserActivity } from '../../dashboard/src/lib/server/users.ts'
import type { Session, UserActivity } from '../../dashboard/src/lib/types.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startDashboard, type ChatResult, type Dashboard } from './support.ts'

const USER = '5a0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e11'
const OTHER = '5a0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e12'
const TALK = crypto.randomUUID()
const LATER = crypto.randomUUID()
let d: Dashboard
let talk: ChatResult[]
let later: ChatResult

beforeAll(async () => {
  d = await startDashboard()
  talk = []
  for (const q of ['first question', 'second question', 'third question']) talk.push(await d.chat(USER, q, TALK))
  later = await d.chat(USER, 'another conversation', LATER)
  const elsewhere = await d.chat(OTHER, 'someone else', crypto.randomUUID())
  const all = [...talk, later, elsewhere]
  expect(all.every((c) => c.status === 200)).toBe(true)
  await Promise.all(all.map((c) => d.waitForTrace(c.traceId)))
}, 120_000)

afterAll(async () => {
  await d?.stop()
})

const json = async <T>(path: string, status = 200): Promise<T> => {
  const res = await d.api(path)
  expect(res.status, path).toBe(status)
  return res.json() as Promise<T>
}

describe('GET /api/sessions/:session_id', () => {
  it('lists the turns in the order they were asked, each with its trace', async () => {
    const s = await json<Session>(`/api/sessions/${TALK}`)
    expect(s.turns.map((t) => t.trace_id)).toEqual(talk.map((c) => c.traceId))
    expect(s.user_ids).toEqual([USER])
    expect(s.truncated).toBe(false)
    for (const t of s.turns) {
      expect(t).toMatchObject({ session_id: TALK, user_id: USER, function: 'chat', end_reason: 'done', status: 'ok' })
      expect(t.ttfb_ms).toBeGreaterThan(0)
      expect(t.output_tokens).toBeGreaterThan(0)
      expect(t.cost_usd).toBeGreaterThan(0)
    }
    expect(s.totals.requests).toBe(3)
    expect(s.totals.cost_usd).toBeCloseTo(s.turns.reduce((n, t) => n + t.cost_usd!, 0), 10)
    expect(s.totals.error_rate).toBe(0)
  })

  it('is a 400 for an id that is not one and a 404 for a session nobody had', async () => {
    const bad = await json<{ error: { code: string } }>('/api/sessions/not-a-session', 400)
    expect(bad.error.code).toBe('invalid_request')
    expect((await json<{ error: { code: string } }>(`/api/sessions/${crypto.randomUUID()}`, 404)).error.code).toBe('not_found')
  })
})

describe('GET /api/users/:user_id', () => {
  it("gives the user's totals over the window and their sessions, most recent first", async () => {
    const u = await json<UserActivity>(`/api/users/${USER}?range=1h`)
    expect(u.sessions.map((s) => [s.session_id, s.requests])).toEqual([[LATER, 1], [TALK, 3]])
    expect(u.totals).toMatchObject({ requests: 4, sessions: 2, errors: 0, error_rate: 0 })
    const turns = (await json<Session>(`/api/sessions/${TALK}`)).turns
    expect(u.sessions[1]!.cost_usd).toBeCloseTo(turns.reduce((n, t) => n + t.cost_usd!, 0), 10)
    expect(u.totals.cost_usd).toBeCloseTo(u.sessions[0]!.cost_usd + u.sessions[1]!.cost_usd, 10)
  })

  it('is empty for a window without requests, and a 400 for a bad id or range', async () => {
    const nobody = await json<UserActivity>(`/api/users/${crypto.randomUUID()}`)
    expect(nobody.sessions).toEqual([])
    expect(nobody.totals).toMatchObject({ requests: 0, sessions: 0, error_rate: null })
    for (const path of ['/api/users/alice', `/api/users/${USER}?range=90d`, `/api/users/${USER}?range=custom&from=x`]) {
      expect((await json<{ error: { code: string } }>(path, 400)).error.code, path).toBe('invalid_request')
    }
  })

  it('is for operators only', async () => {
    for (const path of [`/api/users/${USER}`, `/api/sessions/${TALK}`]) {
      const res = await fetch(`${d.base}${path}`)
      expect(res.status, path).toBe(401)
      expect((await res.json()).error.code, path).toBe('unauthorized')
    }
    const page = await fetch(`${d.base}/sessions/${TALK}`, { redirect: 'manual' })
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toMatch(/^\/login\?next=/)
  })
})

describe('the pages', () => {
  it('go from a trace to its session, to its user, and back to a trace', async () => {
    const page = await d.login('sessions')
    await page.goto(`${d.base}/traces/${talk[1]!.traceId}`)
    await page.click('[data-testid="session-link"]')
    await page.waitForURL(`**/sessions/${TALK}`)
    expect(await page.title()).toContain(`Session ${TALK.slice(0, 8)}`)
    const rows = page.locator('[data-testid="turn-row"]')
    expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-trace-id')))).toEqual(talk.map((c) => c.traceId))

    await page.click('[data-testid="session-user"]')
    await page.waitForURL(`**/users/${USER}`)
    const sessions = page.locator('[data-testid="user-session-row"]')
    expect(await sessions.evaluateAll((r) => r.map((x) => x.getAttribute('data-session-id')))).toEqual([LATER, TALK])
    expect(await page.textContent('[data-testid="user-error-rate"]')).toBe('0.0%')

    // j/k between the rows, Enter follows the focused one.
    await page.keyboard.press('j')
    await page.keyboard.press('j')
    await Promise.all([page.waitForURL(`**/sessions/${TALK}`), page.keyboard.press('Enter')])
    await page.keyboard.press('j')
    await Promise.all([page.waitForURL(`**/traces/${talk[0]!.traceId}`), page.keyboard.press('Enter')])
    await page.context().close()
  })

  it('answer a bad id with a 400 page and an unknown session with a 404 page', async () => {
    const page = await d.login('sessions')
    for (const [path, status] of [['/sessions/nope', 400], ['/users/nope', 400], [`/sessions/${crypto.randomUUID()}`, 404]] as const) {
      const res = await page.goto(`${d.base}${path}`)
      expect(res!.status(), path).toBe(status)
      await page.locator('[data-testid="error-page"]').waitFor()
    }
    await page.goto(`${d.base}/users/${crypto.randomUUID()}`)
    await page.locator('[data-testid="user-empty"]').waitFor()
    await page.context().close()
  })
})

describe('the queries on a seeded day', () => {
  let db: TestDatabase
  const END = new Date(Math.floor(Date.now() / 60_000) * 60_000)
  const window = { from: new Date(END.getTime() - 86_400_000), to: END }
  // As the routes run it: one transaction as the read-only dashboard role.
  const asDashboard = <T>(run: (sql: Db) => Promise<T>) =>
    db.sql.begin(async (tx) => { await enterDashboardRole(tx); return run(tx) }) as Promise<T>

  beforeAll(async () => {
    db = await freshDatabase()
    await seedTelemetry(db.sql, { spans: 3000, days: 1, seed: 11, end: END, concurrency: 1 })
  }, 120_000)

  afterAll(async () => {
    await db?.drop()
  })

  it("count a user's errors as the rollups do (not 4xx), and every session of the window", async () => {
    const [who] = await db.sql<{ user_id: string }[]>`
      select user_id from telemetry.spans
      where kind = 'server' and function is not null and telemetry.request_status(http_status, status_code, end_reason) = 'error'
      group by user_id order by count(*) desc, user_id limit 1`
    const user = who!.user_id
    const [raw] = await db.sql<{ requests: number; errors: number; cost: number; sessions: number }[]>`
      select count(*)::float8 as requests, coalesce(sum(cost_usd), 0)::float8 as cost, count(distinct session_id)::float8 as sessions,
             (count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'error'))::float8 as errors
      from telemetry.spans
      where kind = 'server' and function is not null and user_id = ${user} and start_time >= ${window.from} and start_time < ${window.to}`
    const [rollup] = await db.sql<{ errors: number }[]>`
      select sum(errors)::float8 as errors from telemetry.rollup_minute
      where user_id = ${user} and bucket >= ${window.from} and bucket < ${window.to}`
    const u = await asDashboard((sql) => getUserActivity(sql, user, window))
    expect(u.totals.errors).toBeGreaterThan(0)
    expect(u.totals.errors).toBe(rollup!.errors)
    expect(u.totals).toMatchObject({ requests: raw!.requests, errors: raw!.errors, sessions: raw!.sessions })
    expect(u.totals.cost_usd).toBeCloseTo(raw!.cost, 8)
    expect(u.sessions.reduce((n, s) => n + s.requests, 0)).toBe(raw!.requests)
    const last = u.sessions.map((s) => s.last_seen)
    expect(last).toEqual([...last].sort().reverse())

    const one = await asDashboard((sql) => getUserActivity(sql, user, window, 1))
    expect(one.sessions).toHaveLength(1)
    expect(one.truncated).toBe(u.sessions.length > 1)
    expect(one.totals).toEqual(u.totals)
  })

  it("list a session's turns in order, as many as asked, from its index", async () => {
    const [busy] = await db.sql<{ session_id: string; n: number }[]>`
      select session_id, count(*)::int as n from telemetry.spans
      where kind = 'server' and function is not null and session_id is not null
      group by session_id order by count(*) desc, session_id limit 1`
    expect(busy!.n).toBeGreaterThan(2)
    const s = await asDashboard((sql) => getSession(sql, busy!.session_id, END))
    expect(s!.turns).toHaveLength(busy!.n)
    const starts = s!.turns.map((t) => t.start_time)
    expect(starts).toEqual([...starts].sort())
    const two = await asDashboard((sql) => getSession(sql, busy!.session_id, END, 2))
    expect(two!.turns.map((t) => t.span_id)).toEqual(s!.turns.slice(0, 2).map((t) => t.span_id))
    expect(two!.truncated).toBe(true)

    // With sequential scans priced out, the plan reads the session index (the partial index's
    // predicate matches the query's) rather than every request span of the lookback.
    const plan = await db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      return tx.unsafe(`explain select * from telemetry.spans_and_lost
        where kind = 'server' and function is not null and session_id = '${busy!.session_id}'
          and start_time >= now() - interval '30 days' order by start_time, span_id limit 10`)
    })
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/session_id_start_time_span_id_idx/)
  })
})
