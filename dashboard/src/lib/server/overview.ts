// The on-call overview: KPI tiles and charts, all from the rollups (never raw spans).
import type { Filters } from '../filters.ts'
import { histAdd, histQuantile } from '../hist.ts'
import { previousWindow, type TimeWindow } from '../range.ts'
import type { ErrorSeries, Kpis, OverviewPoint, OverviewRates, StreamRow } from '../types.ts'
import { bucketTimes } from '../buckets.ts'
import { listStreams } from './explorer.ts'
import { streamRates, windowRates } from './stream-rates.ts'
import { alignWindow, chartStep, histSum, interval, rollupFilters, rollupSource, type Db, type Reader } from './rollups.ts'

interface Totals {
  requests: number
  errors: number
  client_errors: number
  input_tokens: number
  output_tokens: number
  cost_usd: number
  stream_ms: number
  ttfb_hist: number[] | null
  duration_hist: number[] | null
}

export interface Overview {
  kpis: { current: Kpis; previous: Kpis }
  /** ITL, tokens/s and client against server TTFB: KPIs, series, per model. */
  rates: OverviewRates
  points: OverviewPoint[]
  errors: ErrorSeries[]
  step_ms: number
  /** The window as read: aligned down to the rollup's buckets. */
  from: string
  to: string
}

const EMPTY: Totals = { requests: 0, errors: 0, client_errors: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, stream_ms: 0, ttfb_hist: null, duration_hist: null }

function toKpis(t: Totals): Kpis {
  return {
    requests: t.requests,
    errors: t.errors,
    error_rate: t.requests ? t.errors / t.requests : null,
    client_errors: t.client_errors,
    client_error_rate: t.requests ? t.client_errors / t.requests : null,
    ttfb_p50: histQuantile(t.ttfb_hist, 0.5),
    ttfb_p95: histQuantile(t.ttfb_hist, 0.95),
    duration_p95: histQuantile(t.duration_hist, 0.95),
    input_tokens: t.input_tokens,
    output_tokens: t.output_tokens,
    cost_usd: t.cost_usd,
  }
}

function addTotals(a: Totals, b: Totals): Totals {
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    client_errors: a.client_errors + b.client_errors,
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cost_usd: a.cost_usd + b.cost_usd,
    stream_ms: a.stream_ms + b.stream_ms,
    ttfb_hist: histAdd(a.ttfb_hist, b.ttfb_hist),
    duration_hist: histAdd(a.duration_hist, b.duration_hist),
  }
}

// Sums come back as float8 so postgres.js hands out numbers, not numeric strings.
const MEASURES = (sql: Db) => sql`
  coalesce(sum(requests), 0)::float8 as requests, coalesce(sum(errors), 0)::float8 as errors,
  coalesce(sum(requests) filter (where status = 'client_error'), 0)::float8 as client_errors,
  coalesce(sum(input_tokens::float8), 0) as input_tokens, coalesce(sum(output_tokens::float8), 0) as output_tokens,
  coalesce(sum(cost_usd::float8), 0) as cost_usd, coalesce(sum(stream_ms), 0)::float8 as stream_ms,
  ${histSum(sql, 'ttfb_hist')} as ttfb_hist, ${histSum(sql, 'duration_hist')} as duration_hist`

/**
 * Everything the overview shows for a window: one pass over the window grouped by chart
 * bucket (the KPI tiles are the sum of the buckets), one over the previous window of the
 * same length, one for errors by code, and the stream rates of both windows (stream-rates.ts)
 * — in parallel, each in its own transaction.
 * The bucket may be widened to an hour (see chartStep).
 */
export async function overview(read: Reader, window: TimeWindow, stepMs: number, filters: Filters): Promise<Overview> {
  const bucketMs = chartStep(window, stepMs, filters)
  const source = rollupSource(bucketMs, filters)
  const current = alignWindow(window, Math.max(source.unit_ms, 60_000))
  const previous = previousWindow(current)
  const step = interval(bucketMs)
  const times = bucketTimes(current, bucketMs)

  const [buckets, [before], errorRows, rates, ratesBefore] = await Promise.all([
    read((sql) => sql<(Totals & { t: Date })[]>`
      select date_bin(${step}::interval, bucket, 'epoch'::timestamptz) as t, ${MEASURES(sql)}
      from ${sql(source.table)}
      where bucket >= ${current.from} and bucket < ${current.to} ${rollupFilters(sql, filters)}
      group by 1`),
    read((sql) => sql<Totals[]>`
      select ${MEASURES(sql)}
      from ${sql(source.table)}
      where bucket >= ${previous.from} and bucket < ${previous.to} ${rollupFilters(sql, filters)}`),
    read((sql) => sql<{ t: Date; code: string; status: string; requests: number }[]>`
      select date_bin(${step}::interval, bucket, 'epoch'::timestamptz) as t,
             case when error_type = '' then status else error_type end as code, status,
             sum(requests)::float8 as requests
      from ${sql(source.table)}
      where bucket >= ${current.from} and bucket < ${current.to} and status in ('error', 'client_error') ${rollupFilters(sql, filters)}
      group by 1, 2, 3`),
    read((sql) => streamRates(sql, source, current, bucketMs, times, filters)),
    read((sql) => windowRates(sql, source, previous, filters)),
  ])

  const byTime = new Map(buckets.map((b) => [b.t.getTime(), b]))
  let total = EMPTY
  const points: OverviewPoint[] = times.map((t) => {
    const b = byTime.get(t.getTime()) ?? EMPTY
    total = addTotals(total, b)
    return {
      t: t.toISOString(),
      requests: b.requests,
      errors: b.errors,
      ttfb_p50: histQuantile(b.ttfb_hist, 0.5),
      ttfb_p95: histQuantile(b.ttfb_hist, 0.95),
      ttfb_p99: histQuantile(b.ttfb_hist, 0.99),
      duration_p50: histQuantile(b.duration_hist, 0.5),
      duration_p95: histQuantile(b.duration_hist, 0.95),
      duration_p99: histQuantile(b.duration_hist, 0.99),
      concurrent: b.stream_ms / bucketMs,
    }
  })

  const index = new Map(points.map((p, i) => [Date.parse(p.t), i]))
  const series = new Map<string, ErrorSeries>()
  for (const row of errorRows) {
    const i = index.get(row.t.getTime())
    if (i === undefined) continue
    let s = series.get(row.code)
    if (!s) series.set(row.code, (s = { code: row.code, status: row.status, total: 0, rates: points.map(() => 0) }))
    s.total += row.requests
    s.rates[i]! += points[i]!.requests ? row.requests / points[i]!.requests : 0
  }

  return {
    kpis: { current: toKpis(total), previous: toKpis(before ?? EMPTY) },
    rates: { ...rates, previous: ratesBefore },
    points,
    errors: [...series.values()].sort((a, b) => b.total - a.total),
    step_ms: bucketMs,
    from: current.from.toISOString(),
    to: current.to.toISOString(),
  }
}

/** Models seen lately and priced ones: the filter's suggestions. */
export async function knownModels(sql: Db, now = new Date()): Promise<string[]> {
  const since = new Date(now.getTime() - 24 * 3600_000)
  const rows = await sql<{ model: string }[]>`
    select model from telemetry.rollup_minute where bucket >= ${since} and model <> ''
    union
    select model from telemetry.model_prices
    order by 1`
  return rows.map((r) => r.model)
}

/** The overview page: the overview, the model suggestions and the latest requests, in parallel. */
export async function overviewPage(read: Reader, window: TimeWindow, stepMs: number, filters: Filters): Promise<{ overview: Overview; models: string[]; recent: StreamRow[] }> {
  const [data, models, recent] = await Promise.all([
    overview(read, window, stepMs, filters),
    read((sql) => knownModels(sql)),
    read((sql) => listStreams(sql, { window, filters, sort: 'time', dir: 'desc', limit: 10 })),
  ])
  return { overview: data, models, recent: recent.rows }
}
