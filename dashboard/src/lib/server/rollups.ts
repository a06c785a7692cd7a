// Which rollup a chart reads, and the WHERE clause every rollup query shares.
// Plain functions of `sql` with relative imports only: bench/dashboard.ts calls them too.
import type { Fragment, ISql } from 'postgres'
import type { Filters } from '../filters.ts'
import { HIST_BUCKETS } from '../hist.ts'
import type { TimeWindow } from '../range.ts'

/** A postgres.js client or transaction: what every query function takes. */
export type Db = ISql

/**
 * Runs a group of queries in a transaction of its own (as the dashboard role): what page-level
 * functions take, so that independent groups run in parallel on separate connections.
 */
export type Reader = <T>(run: (sql: Db) => Promise<T>) => Promise<T>

const MINUTE = 60_000
const HOUR = 60 * MINUTE

export interface RollupSource {
  table: 'telemetry.rollup_minute' | 'telemetry.rollup_hour'
  /** The table's bucket width: windows are aligned down to it. */
  unit_ms: number
}

const MINUTE_SOURCE: RollupSource = { table: 'telemetry.rollup_minute', unit_ms: MINUTE }
const HOUR_SOURCE: RollupSource = { table: 'telemetry.rollup_hour', unit_ms: HOUR }

/**
 * The minute rollup, or the hourly one (no user_id) when the chart's buckets are an hour or
 * more without a user filter: 60× fewer rows on long ranges.
 */
export function rollupSource(stepMs: number, filters: Filters): RollupSource {
  return stepMs < HOUR || filters.user ? MINUTE_SOURCE : HOUR_SOURCE
}

export function floorTo(date: Date, unitMs: number): Date {
  return new Date(Math.floor(date.getTime() / unitMs) * unitMs)
}

/** The window with its start aligned down to the source's buckets (a bucket is read whole or not at all). */
export function alignWindow(window: TimeWindow, unitMs: number): TimeWindow {
  return { from: floorTo(window.from, unitMs), to: window.to }
}

/** ` and function = … and model = …` for the filters that are set (columns of rollup_minute). */
export function rollupFilters(sql: Db, filters: Filters): Fragment {
  return sql`
    ${filters.function ? sql`and function = ${filters.function}` : sql``}
    ${filters.model ? sql`and model = ${filters.model}` : sql``}
    ${filters.status ? sql`and status = ${filters.status}` : sql``}
    ${filters.user ? sql`and user_id = ${filters.user}` : sql``}`
}


/** `'5 minutes'` for date_bin. */
export function interval(stepMs: number): string {
  return `${Math.round(stepMs / 1000)} seconds`
}

/**
 * The chart bucket for a window: the range's own choice, widened to an hour for windows of a
 * day or more without a user filter, so the hourly rollup serves them (a day of minute rows is
 * ~1/30 of the requests of a month: too many to sum histograms over at every refresh).
 */
export function chartStep(window: TimeWindow, stepMs: number, filters: Filters): number {
  if (stepMs >= HOUR || filters.user) return stepMs
  return window.to.getTime() - window.from.getTime() < 24 * HOUR ? stepMs : HOUR
}

/**
 * `array[sum(col[1]), …, sum(col[HIST_BUCKETS])]`: the element-wise sum of a histogram column with
 * built-in aggregates. Same result as telemetry.hist_sum, ~2.5× faster on many rows (no
 * PL/pgSQL call per row: 1.9–2.3 vs 5.0–5.6 µs a row on 50,000 rows since migration
 * 20261203000100; 3–6× before it). Only ever called with the constant column names of HistColumn.
 */
export function histSum(sql: Db, column: HistColumn): Fragment {
  return sql.unsafe(histSumText(column))
}

/** `histSum(c) as c, …` for several columns. */
export function histSums(sql: Db, columns: readonly HistColumn[]): Fragment {
  return sql.unsafe(columns.map((c) => `${histSumText(c)} as ${c}`).join(', '))
}

// coalesce: a column null on every row sums to null, which postgres.js reads as NaN in a float8[].
const histSumText = (column: HistColumn) => `array[${HIST_INDEXES.map((i) => `coalesce(sum(${column}[${i}]), 0)`).join(', ')}]::float8[]`

/** The rollups' histogram columns (migrations/*_telemetry_rollups.sql, *_telemetry_stream_rates.sql). */
export type HistColumn = 'ttfb_hist' | 'duration_hist' | 'itl_hist' | 'tps_hist' | 'client_ttfb_hist' | 'net_ttfb_hist'

const HIST_INDEXES = Array.from({ length: HIST_BUCKETS }, (_, i) => i + 1)

export const DASHBOARD_ROLE = 'streamscope_dashboard'

/**
 * First statement of every dashboard transaction: the read-only role
 * (migrations/20261125000400_dashboard_access.sql), a statement timeout, and memory enough for
 * a month of per-session sums to aggregate without spilling to disk. All `set local`: they end
 * with the transaction (PGlite behind its socket is one session shared with the functions).
 */
export async function enterDashboardRole(sql: Db): Promise<void> {
  await sql`select set_config('role', ${DASHBOARD_ROLE}, true), set_config('statement_timeout', '15s', true),
                   set_config('work_mem', '64MB', true)`
}
