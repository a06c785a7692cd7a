import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTelemetryPipeline } from './pipeline.ts'
import type { SpanRow } from './rows.ts'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

// Deterministic pseudo-random numbers, so a failure reproduces.
let seed = 42
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]

function requestSpan(i: number, t0: number): SpanRow[] {
  const start = new Date(t0 + Math.floor(rand() * 5 * 60_000))
  const ending = pick(['done', 'done', 'done', 'error', 'client_abort', 'timeout', 'rejected'])
  const rejected = ending === 'rejected'
  const ttfb = rejected ? null : 20 + rand() ** 3 * 5000
  const duration = rejected ? 1 + rand() * 10 : ttfb! + rand() * 20_000
  const frames = rejected ? null : Math.floor(rand() * 200)
  const id = (n: number) => n.toString(16).padStart(16, '0')
  const root: SpanRow = {
    trace_id: i.toString(16).padStart(32, '0'), span_id: id(i * 2), parent_span_id: null, name: 'POST /functions/v1/chat',
    kind: 'server', start_time: start, end_time: new Date(start.getTime() + duration), duration_ms: duration,
    status_code: ending === 'error' ? 'error' : 'unset', status_message: null,
    function: pick(['chat', 'chat', 'embed']), model: pick(['sim-1', 'gpt-4o', null]), ttfb_ms: ttfb,
    input_tokens: rejected ? null : Math.floor(rand() * 500), output_tokens: rejected ? null : frames,
    error_type: rejected ? pick(['unauthorized', 'invalid_request']) : ending === 'done' ? null : ending === 'error' ? 'provider_stream_error' : ending,
    user_id: rejected && rand() < 0.5 ? null : pick(['u1', 'u2', 'u3']), session_id: pick(['s1', 's2', 's3', null]), attributes: {}, events: null,
    frame_offsets_ms: null, frames, bytes: frames && frames * 90, end_reason: rejected ? null : ending,
    stalls: rejected ? null : Math.floor(rand() * 3), max_gap_ms: null, usage_estimated: null,
    http_status: rejected ? pick([400, 401, 503]) : 200, run_id: null,
  }
  // A child span that must not count as a request.
  const child: SpanRow = { ...root, span_id: id(i * 2 + 1), parent_span_id: root.span_id, kind: 'client', name: 'chat sim-1' }
  return [root, child]
}

describe('rollup_minute', () => {
  it('agrees with the raw spans: counts, sums and quantiles', async () => {
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000
    const rows = Array.from({ length: 3000 }, (_, i) => requestSpan(i + 1, t0)).flat()
    // Two writers at once, small batches: rollup rows are merged across statements.
    const a = createTelemetryPipeline(db.sql, { batchSize: 173 })
    const b = createTelemetryPipeline(db.sql, { batchSize: 211 })
    a.pushSpans(rows.filter((_, i) => i % 2 === 0))
    b.pushSpans(rows.filter((_, i) => i % 2 === 1))
    await Promise.all([a.flush(), b.flush()])
    expect(a.stats().written + b.stats().written).toBe(rows.length)

    const key = 'bucket, function, model, status, error_type, user_id'
    const fromRollup = await db.sql.unsafe(`
      select ${key}, requests, errors, input_tokens, output_tokens, cost_usd::text, round(stream_ms::numeric, 3)::text as stream_ms,
             stalls, frames, (select sum(x) from unnest(ttfb_hist) x)::int as ttfb_n, (select sum(x) from unnest(duration_hist) x)::int as dur_n
      from telemetry.rollup_minute order by ${key}`)
    const fromRaw = await db.sql.unsafe(`
      select date_trunc('minute', start_time) as bucket, function, coalesce(model, '') as model,
             telemetry.request_status(http_status, status_code, end_reason) as status,
             coalesce(error_type, '') as error_type, coalesce(user_id, '') as user_id,
             count(*)::int as requests, count(*) filter (where telemetry.request_status(http_status, status_code, end_reason) = 'error')::int as errors,
             coalesce(sum(input_tokens), 0)::text as input_tokens, coalesce(sum(output_tokens), 0)::text as output_tokens,
             coalesce(sum(cost_usd), 0)::numeric(16, 8)::text as cost_usd, round(sum(duration_ms)::numeric, 3)::text as stream_ms,
             coalesce(sum(stalls), 0)::int as stalls, coalesce(sum(frames), 0)::text as frames,
             count(ttfb_ms)::int as ttfb_n, count(*)::int as dur_n
      from telemetry.spans where kind = 'server' and function is not null
      group by 1, 2, 3, 4, 5, 6 order by ${key}`)
    expect(fromRollup.length).toBeGreaterThan(50)
    expect(fromRollup).toEqual(fromRaw)
    expect(new Set(fromRollup.map((r) => r.status))).toEqual(new Set(['ok', 'error', 'client_error', 'aborted']))

    // rollup_hour = rollup_minute summed per hour without user_id; rollup_day_session = the raw spans per day/session/user/model.
    const hourly = (q: string) => db.sql.unsafe(q)
    const fromHour = await hourly(`
      select bucket, function, model, status, error_type, requests, errors, input_tokens, output_tokens, cost_usd::text,
             round(stream_ms::numeric, 3)::text as stream_ms, stalls, frames, ttfb_hist, duration_hist
      from telemetry.rollup_hour order by 1, 2, 3, 4, 5`)
    const fromMinutes = await hourly(`
      select date_trunc('hour', bucket) as bucket, function, model, status, error_type, sum(requests)::int as requests,
             sum(errors)::int as errors, sum(input_tokens)::text as input_tokens, sum(output_tokens)::text as output_tokens,
             sum(cost_usd)::numeric(16, 8)::text as cost_usd, round(sum(stream_ms)::numeric, 3)::text as stream_ms,
             sum(stalls)::int as stalls, sum(frames)::text as frames,
             telemetry.hist_sum(ttfb_hist) as ttfb_hist, telemetry.hist_sum(duration_hist) as duration_hist
      from telemetry.rollup_minute group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5`)
    expect(fromHour.length).toBeGreaterThan(5)
    expect(fromHour).toEqual(fromMinutes)
    const sessions = await db.sql`
      select day, session_id, user_id, model, requests, input_tokens, output_tokens, cost_usd::text from telemetry.rollup_day_session order by 1, 2, 3, 4`
    const sessionsRaw = await db.sql`
      select (start_time at time zone 'UTC')::date as day, coalesce(session_id, '') as session_id, coalesce(user_id, '') as user_id,
             coalesce(model, '') as model, count(*)::int as requests, coalesce(sum(input_tokens), 0)::text as input_tokens,
             coalesce(sum(output_tokens), 0)::text as output_tokens, coalesce(sum(cost_usd), 0)::numeric(16, 8)::text as cost_usd
      from telemetry.spans where kind = 'server' and function is not null group by 1, 2, 3, 4 order by 1, 2, 3, 4`
    expect(sessions.length).toBeGreaterThan(5)
    expect(sessions).toEqual(sessionsRaw)

    // Quantiles from the histograms are within one bucket (25 %) of the exact ones.
    const quantiles = await db.sql`
      with h as (
        select function, telemetry.hist_sum(ttfb_hist) as ttfb, telemetry.hist_sum(duration_hist) as dur
        from telemetry.rollup_minute group by function
      ), raw as (
        select function,
          percentile_cont(0.5) within group (order by ttfb_ms) as ttfb50, percentile_cont(0.95) within group (order by ttfb_ms) as ttfb95,
          percentile_cont(0.99) within group (order by duration_ms) as dur99
        from telemetry.spans where kind = 'server' and function is not null group by function
      )
      select raw.*, telemetry.hist_quantile(ttfb, 0.5) as est_ttfb50, telemetry.hist_quantile(ttfb, 0.95) as est_ttfb95,
             telemetry.hist_quantile(dur, 0.99) as est_dur99
      from h join raw using (function)`
    expect(quantiles).toHaveLength(2)
    for (const q of quantiles) {
      for (const [est, exact] of [[q.est_ttfb50, q.ttfb50], [q.est_ttfb95, q.ttfb95], [q.est_dur99, q.dur99]]) {
        expect(Math.abs(est / exact - 1)).toBeLessThanOrEqual(0.25)
      }
    }
  })

  it('histogram helpers: fixed bounds, element-wise sums, interpolated quantiles', async () => {
    const [r] = await db.sql`
      select array_length(telemetry.hist_bounds(), 1) as n, (telemetry.hist_bounds())[1] as first,
             (telemetry.hist_bounds())[67] = 'Infinity' as open_last,
             telemetry.hist_bucket(0.2) as b_small, telemetry.hist_bucket(1.25) as b_125, telemetry.hist_bucket(1e12) as b_huge,
             telemetry.hist_bucket(null) as b_null, telemetry.hist_bucket('NaN') as b_nan, telemetry.hist_bucket('Infinity') as b_inf, telemetry.hist_bucket(-3) as b_neg,
             telemetry.hist_add('{1,2,3}', '{10,20,30}') as added,
             (select telemetry.hist_sum(h) from (values ('{1,0}'::int[]), ('{2,5}'::int[]), (null)) v(h)) as summed,
             telemetry.hist_quantile(telemetry.hist_agg(v), 0.5) as median
      from (select generate_series(100, 200)::float8 as v) x`
    expect(r).toMatchObject({ n: 67, first: 1, open_last: true, b_small: 1, b_125: 2, b_huge: 67, b_null: null, b_nan: 67, b_inf: 67, b_neg: 1, added: [11, 22, 33], summed: [3, 5] })
    expect(Math.abs(r.median / 150 - 1)).toBeLessThan(0.1)
    const [empty] = await db.sql`select telemetry.hist_quantile(array_fill(0, array[67]), 0.5) as q`
    expect(empty.q).toBeNull()
  })

  it('histogram fast paths agree with the definitions: 67-bucket hist_add, hist_agg as per-value buckets', async () => {
    const [r] = await db.sql`
      with v as (
        select g % 7 as grp, case when g % 11 = 0 then null when g % 97 = 0 then 'NaN'::float8
          when g % 89 = 0 then -5 else (g * 7919 % 100003) / 7.0 end as x
        from generate_series(1, 5000) g
      ), counted as (
        select grp, telemetry.hist_bucket(x) as b, count(*)::int as c from v where x is not null group by 1, 2
      ), expected as (
        select g.grp, array_agg(coalesce(c.c, 0) order by k) as h
        from (select distinct grp from v) g cross join generate_series(1, 67) k
        left join counted c on c.grp = g.grp and c.b = k
        group by g.grp
      ), pairs as (
        select (select array_agg((i * 37 + j) % 1000 order by i) from generate_series(1, 67) i) as a,
               (select array_agg(case when i = 5 and j = 3 then null else (i * j) % 50 end order by i) from generate_series(1, 67) i) as b
        from generate_series(1, 20) j
      )
      select
        (select count(*)::int from (select grp, telemetry.hist_agg(x) as h from v group by grp) got
           join expected e using (grp) where got.h = e.h) as agg_matches,
        (select count(*)::int from (select distinct grp from v) g) as groups,
        (select count(*)::int from pairs where telemetry.hist_add(a, b) =
           array(select coalesce(x, 0) + coalesce(y, 0) from unnest(a, b) with ordinality u(x, y, n) order by n)) as add_matches,
        (select telemetry.hist_agg(x) from v where false) as agg_empty`
    expect(r.groups).toBe(7)
    expect(r.agg_matches).toBe(7)
    expect(r.add_matches).toBe(20)
    expect(r.agg_empty).toEqual(Array(67).fill(0))
  })
})
