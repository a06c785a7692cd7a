// The dashboard's query functions on a real Postgres with the migrations applied and a
// synthetic day written through the real pipeline: rollup reads must agree with the raw spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { seedTelemetry } from '../../scripts/seed-telemetry.ts'
import { overview } from '../../dashboard/src/lib/server/overview.ts'
import type { Reader } from '../../dashboard/src/lib/server/rollups.ts'
import { SORTS, listStreams, type Direction, type Sort } from '../../dashboard/src/lib/server/explorer.ts'
import { decodeCursor } from '../../dashboard/src/lib/server/explorer.ts'
import { spend, spendByDay } from '../../dashboard/src/lib/server/spend.ts'
import { health } from '../../dashboard/src/lib/server/health.ts'
import { getTrace } from '../../dashboard/src/lib/server/traces.ts'
import { histQuantile } from '../../dashboard/src/lib/hist.ts'
import type { StreamRow } from '../../dashboard/src/lib/types.ts'

let db: TestDatabase
const END = new Date(Math.floor(Date.now() / 60_000) * 60_000)
const read = ((run) => run(db.sql)) as Reader
const window = { from: new Date(END.getTime() - 2 * 86_400_000), to: END }

beforeAll(async () => {
  db = await freshDatabase()
  await seedTelemetry(db.sql, { spans: 6000, days: 2, seed: 7, end: END, concurrency: 1 })
}, 120_000)

afterAll(async () => {
  await db?.drop()
})

const raw = async (where = db.sql``) => {
  const [row] = await db.sql<{ requests: number; errors: number; cost: number; input: number; output: number }[]>`
    select count(*)::float8 as requests,
           (count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'error'))::float8 as errors,
           coalesce(sum(cost_usd), 0)::float8 as cost, coalesce(sum(input_tokens), 0)::float8 as input,
           coalesce(sum(output_tokens), 0)::float8 as output
    from telemetry.spans
    where kind = 'server' and function is not null and start_time >= ${window.from} and start_time < ${window.to} ${where}`
  return row!
}

describe('overview', () => {
  it('totals from the rollups equal the raw spans, bucket sums equal the totals', async () => {
    const o = await overview(read, window, 3600_000, {})
    const r = await raw()
    expect(r.requests).toBeGreaterThan(500)
    expect(o.kpis.current.requests).toBe(r.requests)
    expect(o.kpis.current.errors).toBe(r.errors)
    expect(o.kpis.current.input_tokens).toBe(r.input)
    expect(o.kpis.current.output_tokens).toBe(r.output)
    expect(o.kpis.current.cost_usd).toBeCloseTo(r.cost, 6)
    expect(o.points.reduce((n, p) => n + p.requests, 0)).toBe(r.requests)
    // 48 hours; 49 buckets unless the window starts on the hour.
    expect(o.points).toHaveLength(END.getTime() % 3600_000 === 0 ? 48 : 49)
    // The previous two days hold nothing: every change reads "new".
    expect(o.kpis.previous.requests).toBe(0)
    expect(o.errors.length).toBeGreaterThan(0)
  })

  it('reads percentiles as telemetry.hist_quantile does', async () => {
    const o = await overview(read, window, 3600_000, {})
    const [sqlQ] = await db.sql<{ p50: number; p95: number }[]>`
      select telemetry.hist_quantile(h, 0.5) as p50, telemetry.hist_quantile(h, 0.95) as p95
      from (select telemetry.hist_sum(ttfb_hist) as h from telemetry.rollup_minute where bucket >= ${window.from} and bucket < ${window.to}) x`
    expect(o.kpis.current.ttfb_p50).toBeCloseTo(sqlQ!.p50, 6)
    expect(o.kpis.current.ttfb_p95).toBeCloseTo(sqlQ!.p95, 6)
    expect(histQuantile(null, 0.5)).toBeNull()
  })

  it('applies every filter', async () => {
    const o = await overview(read, window, 3600_000, { function: 'chat', model: 'gpt-4o-mini', status: 'error' })
    const r = await raw(db.sql`and function = 'chat' and model = 'gpt-4o-mini' and telemetry.request_status(http_status, status_code, end_reason) = 'error'`)
    expect(o.kpis.current.requests).toBe(r.requests)
    const [someone] = await db.sql<{ user_id: string }[]>`select user_id from telemetry.rollup_minute where user_id <> '' limit 1`
    const mine = await overview(read, window, 3600_000, { user: someone!.user_id })
    expect(mine.kpis.current.requests).toBe((await raw(db.sql`and user_id = ${someone!.user_id}`)).requests)
  })
})

describe('streams explorer', () => {
  async function walk(sort: Sort, dir: Direction, limit: number) {
    const pages: StreamRow[][] = []
    let after: string | null = null
    let lastPrev: string | null = null
    for (;;) {
      const page = await listStreams(db.sql, { window, filters: {}, sort, dir, limit, after: after ? decodeCursor(after)! : undefined })
      pages.push(page.rows)
      lastPrev = page.prev
      if (!page.next) break
      after = page.next
    }
    return { pages, lastPrev }
  }

  it('pages through every request exactly once, in order, both ways, for every sort', async () => {
    const total = (await raw()).requests
    const key: Record<Sort, (r: StreamRow) => number> = {
      time: (r) => Date.parse(r.start_time), ttfb: (r) => r.ttfb_ms ?? -1, duration: (r) => r.duration_ms,
      tokens: (r) => (r.input_tokens ?? 0) + (r.output_tokens ?? 0), cost: (r) => r.cost_usd ?? -1,
    }
    for (const sort of SORTS) {
      for (const dir of ['desc', 'asc'] as const) {
        const { pages, lastPrev } = await walk(sort, dir, 97)
        const rows = pages.flat()
        expect(rows).toHaveLength(total)
        expect(new Set(rows.map((r) => r.span_id)).size).toBe(total)
        for (let i = 1; i < rows.length; i++) {
          const a = key[sort](rows[i - 1]!)
          const b = key[sort](rows[i]!)
          if (dir === 'desc') expect(a).toBeGreaterThanOrEqual(b)
          else expect(a).toBeLessThanOrEqual(b)
        }
        // Back from the last page: the same pages, in reverse, and nothing before the first.
        expect(pages.length).toBeGreaterThan(1)
        let cursor = lastPrev
        for (let p = pages.length - 2; p >= 0; p--) {
          const back = await listStreams(db.sql, { window, filters: {}, sort, dir, limit: 97, before: decodeCursor(cursor!)! })
          expect(back.rows.map((r) => r.span_id)).toEqual(pages[p]!.map((r) => r.span_id))
          expect(back.next).not.toBeNull()
          cursor = back.prev
        }
        expect(cursor).toBeNull()
      }
    }
  }, 120_000)

  it('filters by status and user', async () => {
    const errors = await listStreams(db.sql, { window, filters: { status: 'aborted' }, sort: 'time', dir: 'desc', limit: 500 })
    expect(errors.rows.length).toBeGreaterThan(0)
    expect(errors.rows.every((r) => r.status === 'aborted' && r.end_reason === 'client_abort')).toBe(true)
    const user = errors.rows[0]!.user_id!
    const mine = await listStreams(db.sql, { window, filters: { user }, sort: 'time', dir: 'desc', limit: 500 })
    expect(mine.rows.every((r) => r.user_id === user)).toBe(true)
    expect(mine.rows.length).toBe((await raw(db.sql`and user_id = ${user}`)).requests)
  })
})

describe('spend', () => {
  it('per-day rows add up to the raw spans, and the top lists are in cost order', async () => {
    const s = await spend(read, window, 86_400_000, {})
    const r = await raw()
    expect(s.totals.requests).toBe(r.requests)
    expect(s.totals.cost_usd).toBeCloseTo(r.cost, 6)
    expect(s.models).toContain('gpt-4o-mini')
    expect(s.models).not.toContain('')
    const costs = s.top_users.map((u) => u.cost_usd)
    expect(costs).toEqual([...costs].sort((a, b) => b - a))
    const [top] = await db.sql<{ user_id: string; cost: number }[]>`
      select user_id, sum(cost_usd)::float8 as cost from telemetry.spans
      where kind = 'server' and function is not null and start_time >= ${window.from} and start_time < ${window.to}
      group by user_id order by 2 desc nulls last limit 1`
    expect(s.top_users[0]!.user_id).toBe(top!.user_id)
    expect(s.top_users[0]!.cost_usd).toBeCloseTo(top!.cost, 6)
    const sessionCosts = s.top_sessions.map((x) => x.cost_usd)
    expect(sessionCosts).toEqual([...sessionCosts].sort((a, b) => b - a))
    // Over a week the top lists come from rollup_day_session (whole days): the same lists here,
    // since every request of the week is in the two seeded days.
    const week = await spend(read, { from: new Date(END.getTime() - 7 * 86_400_000), to: END }, 86_400_000, {})
    expect(week.top_users.map((u) => [u.user_id, u.requests])).toEqual(s.top_users.map((u) => [u.user_id, u.requests]))
    expect(week.top_sessions.map((x) => x.session_id)).toEqual(s.top_sessions.map((x) => x.session_id))
    expect(week.top_sessions[0]!.cost_usd).toBeCloseTo(s.top_sessions[0]!.cost_usd, 6)
    const days = await spendByDay(db.sql, window, { model: 'gpt-4o' })
    expect(days.every((d) => d.model === 'gpt-4o')).toBe(true)
  })
})

describe('health and traces', () => {
  it('counts the last 24 h of chat streams from the rollup', async () => {
    const h = await health(db.sql, 0.995, END)
    const day = h.windows.find((w) => w.minutes === 1440)!
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::float8 as n from telemetry.spans
      where kind = 'server' and function = 'chat' and start_time >= ${new Date(END.getTime() - 86_400_000)} and start_time < ${END}`
    expect(day.requests).toBe(row!.n)
    expect(h.points).toHaveLength(24)
    if (day.error_rate !== null) expect(day.burn_rate).toBeCloseTo(day.error_rate / 0.005, 6)
  })

  it('returns a stream with its frame offsets and logs', async () => {
    const [s] = await db.sql<{ trace_id: string; frames: number }[]>`
      select trace_id, frames from telemetry.spans where kind = 'server' and function = 'chat' and frames > 3 limit 1`
    const trace = await getTrace(db.sql, s!.trace_id)
    const main = trace!.spans.find((x) => x.kind === 'server')!
    expect(main.frame_offsets_ms).toHaveLength(s!.frames)
    expect(typeof main.frame_offsets_ms![0]).toBe('number')
    expect(trace!.logs.length).toBeGreaterThan(0)
    expect(await getTrace(db.sql, 'f'.repeat(32))).toBeNull()
  })
})
