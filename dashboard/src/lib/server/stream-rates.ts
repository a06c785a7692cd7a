// Inter-token latency, output tokens/s and client against server TTFB for the overview, from
// the rollups' stream histograms (migrations/20261207000100_telemetry_stream_rates.sql).
// Relative imports only: bench/dashboard.ts calls these too.
import type { Filters } from '../filters.ts'
import { histAdd, histQuantile } from '../hist.ts'
import type { TimeWindow } from '../range.ts'
import type { OverviewRates, StreamRates } from '../types.ts'
import { histSums, interval, rollupFilters, type Db, type HistColumn, type RollupSource } from './rollups.ts'

const HISTS = ['ttfb_hist', 'itl_hist', 'tps_hist', 'client_ttfb_hist', 'net_ttfb_hist'] as const satisfies readonly HistColumn[]
type Hists = { streams: number } & { [K in (typeof HISTS)[number]]: number[] | null }

const EMPTY: Hists = { streams: 0, ttfb_hist: null, itl_hist: null, tps_hist: null, client_ttfb_hist: null, net_ttfb_hist: null }

// Chat rows only: embeddings have no frames and no beacon.
const MEASURES = (sql: Db) => sql`
  coalesce(sum(requests), 0)::float8 as streams,
  ${histSums(sql, HISTS)}`

const count = (h: readonly number[] | null) => (h ?? []).reduce((n, c) => n + (c ?? 0), 0)

export function toRates(h: Hists): StreamRates {
  return {
    streams: h.streams,
    beacons: count(h.client_ttfb_hist),
    itl_p50: histQuantile(h.itl_hist, 0.5),
    itl_p95: histQuantile(h.itl_hist, 0.95),
    itl_p99: histQuantile(h.itl_hist, 0.99),
    tps_p50: histQuantile(h.tps_hist, 0.5),
    tps_p05: histQuantile(h.tps_hist, 0.05),
    tps_p01: histQuantile(h.tps_hist, 0.01),
    ttfb_p50: histQuantile(h.ttfb_hist, 0.5),
    ttfb_p95: histQuantile(h.ttfb_hist, 0.95),
    client_ttfb_p50: histQuantile(h.client_ttfb_hist, 0.5),
    client_ttfb_p95: histQuantile(h.client_ttfb_hist, 0.95),
    net_ttfb_p50: histQuantile(h.net_ttfb_hist, 0.5),
    net_ttfb_p95: histQuantile(h.net_ttfb_hist, 0.95),
  }
}

function add(a: Hists, b: Hists): Hists {
  const out = { streams: a.streams + b.streams } as Hists
  for (const c of HISTS) out[c] = histAdd(a[c], b[c])
  return out
}

/**
 * The window's stream histograms per chart bucket and model, in one pass; the chart series,
 * the per-model table and the window's totals are its sums, so they agree.
 */
export async function streamRates(
  sql: Db, source: RollupSource, window: TimeWindow, stepMs: number, times: Date[], filters: Filters,
): Promise<Omit<OverviewRates, 'previous'>> {
  const rows = await sql<(Hists & { t: Date; model: string })[]>`
    select date_bin(${interval(stepMs)}::interval, bucket, 'epoch'::timestamptz) as t, model, ${MEASURES(sql)}
    from ${sql(source.table)}
    where bucket >= ${window.from} and bucket < ${window.to} and function = 'chat' ${rollupFilters(sql, filters)}
    group by 1, 2`
  const byTime = new Map<number, Hists>()
  const byModel = new Map<string, Hists>()
  let total = EMPTY
  for (const r of rows) {
    byTime.set(r.t.getTime(), add(byTime.get(r.t.getTime()) ?? EMPTY, r))
    byModel.set(r.model, add(byModel.get(r.model) ?? EMPTY, r))
    total = add(total, r)
  }
  return {
    current: toRates(total),
    points: times.map((t) => ({ t: t.toISOString(), ...toRates(byTime.get(t.getTime()) ?? EMPTY) })),
    models: [...byModel.entries()]
      .map(([model, h]) => ({ model, ...toRates(h) }))
      .sort((a, b) => b.streams - a.streams || (a.model < b.model ? -1 : 1)),
  }
}

/** The same totals over another window (the previous period, for the KPI tiles' change). */
export async function windowRates(sql: Db, source: RollupSource, window: TimeWindow, filters: Filters): Promise<StreamRates> {
  const [row] = await sql<Hists[]>`
    select ${MEASURES(sql)}
    from ${sql(source.table)}
    where bucket >= ${window.from} and bucket < ${window.to} and function = 'chat' ${rollupFilters(sql, filters)}`
  return toRates(row ?? EMPTY)
}
