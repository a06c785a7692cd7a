// The streams explorer: request spans, filtered, sorted, paged by keyset (never OFFSET), so
// page 500 costs what page 1 costs. A raw-span read, bounded by the time window, of the stored
// spans and the lost requests not stored yet (telemetry.spans_and_lost).
import type { Fragment } from 'postgres'
import type { Filters } from '../filters.ts'
import type { TimeWindow } from '../range.ts'
import type { StreamRow } from '../types.ts'
import type { Db } from './rollups.ts'

export const SORTS = ['time', 'ttfb', 'duration', 'tokens', 'cost'] as const
export type Sort = (typeof SORTS)[number]
export type Direction = 'asc' | 'desc'

/** Where a page starts: the sort value, start time (text, µs kept) and span id of a row. */
export interface Cursor {
  k: number | null
  t: string
  s: string
}

export interface StreamQuery {
  window: TimeWindow
  filters: Filters
  sort: Sort
  dir: Direction
  limit: number
  /** Rows after this one in the sort order (next page) … */
  after?: Cursor
  /** … or before it (previous page). */
  before?: Cursor
}

export interface StreamPage {
  rows: StreamRow[]
  /** Cursor of the last row, when more rows follow. */
  next: string | null
  /** Cursor of the first row, when rows precede it. */
  prev: string | null
}

// Nulls (no TTFB on a rejected request, no cost on an unpriced model) sort as -1: lowest.
function sortKey(sql: Db, sort: Sort): Fragment | null {
  switch (sort) {
    case 'time': return null
    case 'ttfb': return sql`coalesce(ttfb_ms, -1)`
    case 'duration': return sql`duration_ms`
    case 'tokens': return sql`(coalesce(input_tokens, 0) + coalesce(output_tokens, 0))::float8`
    case 'cost': return sql`coalesce(cost_usd, -1)::float8`
  }
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url')
}

// start_time::text as Postgres prints a timestamptz: `2026-12-04 10:00:00.123456+00`.
const CURSOR_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

/** A time Postgres accepts as a timestamptz: a real day of a real month, an hour of the day, a UTC offset it knows. */
function isCursorTime(text: string): boolean {
  const m = CURSOR_TIME.exec(text)
  if (!m) return false
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes = 0] = m.slice(1).map((part) => Number(part ?? 0))
  return year! >= 1 && month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysInMonth(year!, month!) &&
    hour! <= 23 && minute! <= 59 && second! <= 59 && offsetHours! <= 15 && offsetMinutes <= 59
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor
    const validK = c.k === null || (typeof c.k === 'number' && Number.isFinite(c.k))
    if (!validK || typeof c.t !== 'string' || typeof c.s !== 'string' || !/^[0-9a-f]{16}$/.test(c.s)) return null
    // Checked in full here: an impossible time would otherwise fail the query, a 500.
    if (!isCursorTime(c.t)) return null
    return c
  } catch {
    return null
  }
}

type Stored = Omit<StreamRow, 'start_time'> & { start_time: Date; t_key: string; k: number | null }

export async function listStreams(sql: Db, q: StreamQuery): Promise<StreamPage> {
  const key = sortKey(sql, q.sort)
  const cursor = q.after ?? q.before
  // Paging backwards reads the other way and flips the page.
  const backwards = !q.after && Boolean(q.before)
  const readDesc = (q.dir === 'desc') !== backwards
  const cmp = readDesc ? sql`<` : sql`>`
  const order = readDesc ? sql`desc` : sql`asc`

  let seek: Fragment = sql``
  if (cursor) {
    // Sent as text for Postgres to parse: a timestamptz parameter would go through a JS Date,
    // which drops the microseconds and rolls an impossible day over into the next month.
    const at = sql`${cursor.t}::text::timestamptz`
    seek = key
      ? sql`and (${key}, start_time, span_id) ${cmp} (${cursor.k ?? -1}::float8, ${at}, ${cursor.s})`
      : sql`and (start_time, span_id) ${cmp} (${at}, ${cursor.s})`
  }
  const f = q.filters
  const rows = await sql<Stored[]>`
    select trace_id, span_id, start_time, start_time::text as t_key, ${key ?? sql`null::float8`} as k,
           function, duration_ms, telemetry.request_status(http_status, status_code, end_reason) as status, status_code,
           model, ttfb_ms, input_tokens, output_tokens, cost_usd::float8 as cost_usd, error_type, user_id, session_id,
           end_reason, frames, stalls, http_status
    from telemetry.spans_and_lost
    where kind = 'server' and function is not null
      and start_time >= ${q.window.from} and start_time < ${q.window.to}
      ${f.function ? sql`and function = ${f.function}` : sql``}
      ${f.model ? sql`and model = ${f.model}` : sql``}
      ${f.user ? sql`and user_id = ${f.user}` : sql``}
      ${f.status ? sql`and telemetry.request_status(http_status, status_code, end_reason) = ${f.status}` : sql``}
      ${seek}
    order by ${key ? sql`${key} ${order},` : sql``} start_time ${order}, span_id ${order}
    limit ${q.limit + 1}`

  const more = rows.length > q.limit
  const page = rows.slice(0, q.limit)
  if (backwards) page.reverse()
  const cursorOf = (r: Stored) => encodeCursor({ k: r.k, t: r.t_key, s: r.span_id })
  const first = page[0]
  const last = page.at(-1)
  // Going forward, rows precede this page exactly when we came from a cursor; going back,
  // rows follow it (the page we came from).
  const next = last && (backwards ? true : more) ? cursorOf(last) : null
  const prev = first && (backwards ? more : Boolean(cursor)) ? cursorOf(first) : null
  return {
    rows: page.map(({ t_key: _t, k: _k, ...r }) => ({ ...r, start_time: r.start_time.toISOString() })),
    next,
    prev,
  }
}
