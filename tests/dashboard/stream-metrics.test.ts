// Inter-token latency, tokens/s and client against server TTFB on a real Postgres: what the
// rollups keep (telemetry.roll_up, migration 20261207000100) agrees with the raw spans, a
// beacon written after its request is counted once in the request's row, the overview reads
// the same numbers per bucket, per model and in total, the trace page measures one stream,
// and the error-rate tile and the error chart count what they say. Also the spend page's top
// sessions from rollup_session against a plain sum of the raw request spans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { seedTelemetry } from '../../scripts/seed-telemetry.ts'
import { createTelemetryPipeline } from '../../shared/telemetry/pipeline.ts'
import type { SpanRow } from '../../shared/telemetry/rows.ts'
import { SPAN_NULLS } from '../../shared/telemetry/span-columns.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { overview } from '../../dashboard/src/lib/server/overview.ts'
import { topSessions, topSessionsByTotal } from '../../dashboard/src/lib/server/spend.ts'
import { getTrace } from '../../dashboard/src/lib/server/traces.ts'
import type { Reader } from '../../dashboard/src/lib/server/rollups.ts'
import { HIST_GROWTH } from '../../dashboard/src/lib/hist.ts'

let db: TestDatabase
const END = new Date(Math.floor(Date.now() / 3600_000) * 3600_000)
const read = ((run) => run(db.sql)) as Reader
const window = { from: new Date(END.getTime() - 2 * 86_400_000), to: END }

beforeAll(async () => {
  db = await freshDatabase()
  await seedTelemetry(db.sql, { spans: 12000, days: 4, seed: 11, end: END, concurrency: 2 })
}, 120_000)

afterAll(async () => {
  await db?.drop()
})

/** Exact percentile (as percentile_cont) of values computed here, not by the SQL under test. */
function percentile(values: number[], q: number): number {
  const v = [...values].sort((a, b) => a - b)
  const at = q * (v.length - 1)
  const lo = Math.floor(at)
  return v[lo]! + (v[Math.min(lo + 1, v.length - 1)]! - v[lo]!) * (at - lo)
}

/** Within one histogram bucket of the exact value (the histograms' promise). */
const withinBucket = (got: number | null, exact: number) => {
  expect(got).not.toBeNull()
  expect(got!).toBeGreaterThanOrEqual(exact / HIST_GROWTH - 1)
  expect(got!).toBeLessThanOrEqual(exact * HIST_GROWTH + 1)
}

const chatStreams = () => db.sql<{ trace_id: string; span_id: string; model: string; offsets: number[] | null; output_tokens: number | null; ttfb_ms: number | null }[]>`
  select trace_id, span_id, coalesce(model, '') as model, frame_offsets_ms as offsets, output_tokens, ttfb_ms from telemetry.spans
  where kind = 'server' and function = 'chat' and start_time >= ${window.from} and start_time < ${window.to}`

const gapsOf = (o: number[] | null) => (o ?? []).slice(1).map((v, i) => v - o![i]!)
const rateOf = (o: number[] | null, tokens: number | null) =>
  o && o.length > 1 && tokens !== null && tokens >= 2 && o.at(-1)! > o[0]! ? ((tokens - 1) * 1000) / (o.at(-1)! - o[0]!) : null

describe('stream rates in the rollups', () => {
  it('hold every frame gap and every stream speed of the raw spans, read back by the overview', async () => {
    const streams = await chatStreams()
    const gaps = streams.flatMap((s) => gapsOf(s.offsets))
    const rates = streams.map((s) => rateOf(s.offsets, s.output_tokens)).filter((r): r is number => r !== null)
    expect(gaps.length).toBeGreaterThan(10_000)
    const inWindow = db.sql`function = 'chat' and bucket >= ${window.from} and bucket < ${window.to}`
    const [kept] = await db.sql<{ gaps: number; rates: number; hour_gaps: number }[]>`
      select (select sum(x) from telemetry.rollup_minute, unnest(itl_hist) x where ${inWindow})::int as gaps,
             (select sum(x) from telemetry.rollup_minute, unnest(tps_hist) x where ${inWindow})::int as rates,
             (select sum(x) from telemetry.rollup_hour, unnest(itl_hist) x where ${inWindow})::int as hour_gaps`
    expect(kept).toEqual({ gaps: gaps.length, rates: rates.length, hour_gaps: gaps.length })

    const o = await overview(read, window, 3600_000, {})
    const r = o.rates.current
    expect(r.streams).toBe(streams.length)
    withinBucket(r.itl_p50, percentile(gaps, 0.5))
    withinBucket(r.itl_p95, percentile(gaps, 0.95))
    withinBucket(r.itl_p99, percentile(gaps, 0.99))
    withinBucket(r.tps_p50, percentile(rates, 0.5))
    withinBucket(r.tps_p05, percentile(rates, 0.05))
    expect(r.itl_p50!).toBeLessThan(r.itl_p95!)
    expect(r.tps_p05!).toBeLessThan(r.tps_p50!)
    expect(o.rates.points).toHaveLength(o.points.length)
    expect(o.rates.points.reduce((n, p) => n + p.streams, 0)).toBe(streams.length)
  })

  it('per model, as the raw spans of that model', async () => {
    const o = await overview(read, window, 3600_000, {})
    const streams = await chatStreams()
    expect(o.rates.models.reduce((n, m) => n + m.streams, 0)).toBe(streams.length)
    const counts = o.rates.models.map((m) => m.streams)
    expect(counts).toEqual([...counts].sort((a, b) => b - a))
    for (const m of o.rates.models.slice(0, 3)) {
      const mine = streams.filter((s) => s.model === m.model)
      expect(m.streams).toBe(mine.length)
      withinBucket(m.itl_p95, percentile(mine.flatMap((s) => gapsOf(s.offsets)), 0.95))
    }
    // The synthetic models differ in speed: the table tells them apart.
    const speeds = o.rates.models.map((m) => m.tps_p50!)
    expect(Math.max(...speeds) / Math.min(...speeds)).toBeGreaterThan(1.5)
  })

  it('counts each beacon of the seed in its request’s row: client TTFB and the network share', async () => {
    const beacons = await db.sql<{ client: number; server: number }[]>`
      select (b.attributes ->> ${ATTR.clientTtfbMs})::float8 as client, s.ttfb_ms::float8 as server
      from telemetry.spans b join telemetry.spans s on s.trace_id = b.trace_id and s.span_id = b.parent_span_id
      where s.kind = 'server' and s.function = 'chat' and b.attributes ? ${ATTR.clientTtfbMs}
        and s.start_time >= ${window.from} and s.start_time < ${window.to}`
    expect(beacons.length).toBeGreaterThan(200)
    const o = await overview(read, window, 3600_000, {})
    const r = o.rates.current
    expect(r.beacons).toBe(beacons.length)
    withinBucket(r.client_ttfb_p50, percentile(beacons.map((b) => b.client), 0.5))
    withinBucket(r.net_ttfb_p50, percentile(beacons.map((b) => b.client - b.server), 0.5))
    expect(r.client_ttfb_p50!).toBeGreaterThan(r.ttfb_p50!)
    // Beacons add no request.
    expect(o.kpis.current.requests).toBe(o.points.reduce((n, p) => n + p.requests, 0))
  })
})

describe('a beacon written after its request', () => {
  const t0 = END.getTime() - 90 * 60_000 + 17_000
  const request: SpanRow = {
    ...SPAN_NULLS, trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8), name: 'POST /functions/v1/chat', kind: 'server',
    start_time: new Date(t0), end_time: new Date(t0 + 2000), duration_ms: 2000, status_code: 'unset', attributes: {},
    function: 'chat', model: 'late-beacon-model', user_id: 'late-user', ttfb_ms: 100, http_status: 200, end_reason: 'done',
    frames: 4, output_tokens: 4, frame_offsets_ms: [100, 400, 700, 1000],
  }
  const beacon: SpanRow = {
    ...SPAN_NULLS, trace_id: request.trace_id, span_id: 'ef'.repeat(8), parent_span_id: request.span_id, name: 'client timing',
    kind: 'internal', start_time: new Date(t0 + 2500), end_time: new Date(t0 + 2500), duration_ms: 0, status_code: 'unset',
    user_id: 'late-user', attributes: { [ATTR.clientTtfbMs]: 180, [ATTR.clientDurationMs]: 2100 },
  }
  const row = async () => (await db.sql<{ requests: number; itl: number[]; tps: number[] | null; client: number[] | null; net: number[] | null }[]>`
    select requests, itl_hist as itl, tps_hist as tps, client_ttfb_hist as client, net_ttfb_hist as net
    from telemetry.rollup_minute where model = 'late-beacon-model'`)

  it('joins the request’s rollup row once, adding no request; the trace page shows the stream', async () => {
    const write = async (spans: SpanRow[]) => {
      const p = createTelemetryPipeline(db.sql, {})
      p.pushSpans(spans)
      await p.shutdown()
    }
    await write([request])
    const before = await row()
    expect(before).toHaveLength(1)
    expect(before[0]!.client).toBeNull()
    expect(before[0]!.itl.reduce((n, c) => n + c, 0)).toBe(3)
    await write([beacon])
    await write([beacon]) // replayed: inserted once, so counted once
    const after = await row()
    expect(after).toHaveLength(1)
    expect(after[0]!.requests).toBe(1)
    expect(after[0]!.client!.reduce((n, c) => n + c, 0)).toBe(1)
    // 180 ms client against 100 ms server: 80 ms of network, in the bucket holding 80.
    const bucket = after[0]!.net!.findIndex((c) => c > 0)
    expect(HIST_GROWTH ** (bucket - 1)).toBeLessThan(80)
    expect(HIST_GROWTH ** bucket).toBeGreaterThanOrEqual(80)

    const trace = await getTrace(db.sql, request.trace_id)
    expect(trace!.streams).toEqual([{
      span_id: request.span_id, frames: 4, itl_p50: 300, itl_p95: 300, itl_p99: 300, max_gap_ms: null,
      tokens_per_s: 3000 / 900, ttfb_ms: 100, client_ttfb_ms: 180, client_duration_ms: 2100,
    }])
  })
})

describe('error rate', () => {
  it('the tile counts server errors, 4xx beside it; the chart’s codes add up to both', async () => {
    const o = await overview(read, window, 3600_000, {})
    const k = o.kpis.current
    const [raw] = await db.sql<{ errors: number; rejected: number; requests: number }[]>`
      select count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'error')::int as errors,
             count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'client_error')::int as rejected,
             count(*)::int as requests
      from telemetry.spans where kind = 'server' and function is not null and start_time >= ${window.from} and start_time < ${window.to}`
    expect(raw!.rejected).toBeGreaterThan(0)
    expect(k.errors).toBe(raw!.errors)
    expect(k.client_errors).toBe(raw!.rejected)
    expect(k.error_rate).toBeCloseTo(raw!.errors / raw!.requests, 10)
    expect(k.client_error_rate).toBeCloseTo(raw!.rejected / raw!.requests, 10)
    // Bucket by bucket, the chart's server-error codes are the tile's errors.
    const server = o.errors.filter((e) => e.status === 'error')
    o.points.forEach((p, i) => expect(server.reduce((n, e) => n + e.rates[i]!, 0) * p.requests).toBeCloseTo(p.errors, 6))
    const byStatus = (status: string) => o.errors.filter((e) => e.status === status).reduce((n, e) => n + e.total, 0)
    expect(byStatus('error')).toBe(k.errors)
    expect(byStatus('client_error')).toBe(k.client_errors)
  })
})

describe('top sessions over long windows', () => {
  const rawTop = (from: Date, to: Date) => db.sql<{ session_id: string; cost: number; requests: number }[]>`
    select session_id, coalesce(sum(cost_usd), 0)::float8 as cost, count(*)::int as requests from telemetry.spans
    where kind = 'server' and function is not null and session_id is not null
      and start_time >= ${new Date(from.toISOString().slice(0, 10))} and start_time < ${new Date(new Date(to.toISOString().slice(0, 10)).getTime() + 86_400_000)}
    group by session_id order by 2 desc, 3 desc, 1 limit 10`

  it('from rollup_session equal a plain sum, also for sessions that start before the window', async () => {
    const from = new Date(END.getTime() - 3 * 86_400_000 + 3600_000)
    const [crossing] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from telemetry.rollup_session
      where first_day < ${from.toISOString().slice(0, 10)}::date and last_day >= ${from.toISOString().slice(0, 10)}::date`
    expect(crossing!.n).toBeGreaterThan(0)
    for (const start of [new Date(END.getTime() - 7 * 86_400_000), from]) {
      const w = { from: start, to: END }
      const got = await topSessions(db.sql, w, {})
      const want = await rawTop(w.from, w.to)
      expect(got.map((s) => s.session_id)).toEqual(want.map((s) => s.session_id))
      got.forEach((s, i) => expect(s.cost_usd).toBeCloseTo(want[i]!.cost, 6))
      // Answered by rollup_session itself, not by the per-day sum it falls back to.
      expect((await topSessionsByTotal(db.sql, w, 10))?.map((s) => s.session_id)).toEqual(want.map((s) => s.session_id))
    }
  })
})
