// The streams explorer: request spans, filtered, sorted, paged by keyset (never OFFSET), so
// page 500 costs what page 1 costs. A raw-span read, bounded by the time window, of the stored
// spans and the lost requests not stored yet (telemetry.spans_and_lost).
import type { Fragment } from 'postgres'
import { ATTR } from '../../../../shared/telemetry/attributes.ts'
import { STREAM_FILTER_KEYS, type FilterKey, type StreamFilters } from '../filters.ts'
import type { TimeWindow } from '../range.ts'
import type { ExplorerRow, StreamRow } from '../types.ts'
import type { Db } from './rollups.ts'
import { streamColumns } from './stream-columns.ts'

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
  filters: StreamFilters
  sort: Sort
  dir: Direction
  limit: number
  /** Rows after this one in the sort order (next page) … */
  after?: Cursor
  /** … or before it (previous page). */
  before?: Cursor
}

export interface StreamPage {
  rows: ExplorerRow[]
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

// A resume of a stream is a request of its own on the stream's trace, a child of the stream's
// request span, with the seq it resumed from (functions/chat/resume.ts): held here or followed
// from the frame log on another isolate alike, which the stream's own span cannot count.
// Literal keys, so that the partial indexes of migrations/20261207000200_explorer.sql apply.
export const RESUME_SPAN = `r.kind = 'server' and r.attributes ? '${ATTR.resumeFromSeq}'`
// The prompt and answer, when content capture recorded them, are on the provider span (a
// child of the request span), as stored: after redaction.
export const CAPTURED_SPAN = `p.attributes ? '${ATTR.outputMessages}'`
// A provider call starts inside its request: at most this long after the window's end.
const LONGEST_REQUEST = '1 hour'

type Condition<K extends FilterKey> = (sql: Db, value: NonNullable<StreamFilters[K]>, window: TimeWindow) => Fragment

/** Each filter's condition on the request span `s`: one per filter name (filters.ts). */
const CONDITIONS: { [K in FilterKey]: Condition<K> } = {
  function: (sql, v) => sql`and s.function = ${v}`,
  model: (sql, v) => sql`and s.model = ${v}`,
  user: (sql, v) => sql`and s.user_id = ${v}`,
  status: (sql, v) => sql`and telemetry.request_status(s.http_status, s.status_code, s.end_reason) = ${v}`,
  end_reason: (sql, v) => sql`and s.end_reason = ${v}`,
  error_code: (sql, v) => sql`and s.error_type = ${v}`,
  http_status: (sql, v) => sql`and s.http_status = ${v}::int2`,
  min_ttfb_ms: (sql, v) => sql`and s.ttfb_ms >= ${v}::float8`,
  min_duration_ms: (sql, v) => sql`and s.duration_ms >= ${v}::float8`,
  session: (sql, v) => sql`and s.session_id = ${v}`,
  stalled: (sql) => sql`and s.stalls > 0`,
  resumed: (sql, _v, w) => sql`and exists (
    select 1 from telemetry.spans_and_lost r
    where r.trace_id = s.trace_id and r.parent_span_id = s.span_id and ${sql.unsafe(RESUME_SPAN)} and r.start_time >= ${w.from})`,
  q: (sql, v, w) => sql`and exists (
    select 1 from telemetry.spans p
    where p.trace_id = s.trace_id and p.parent_span_id = s.span_id and ${sql.unsafe(CAPTURED_SPAN)}
      and telemetry.captured_tsvector(p.attributes) @@ telemetry.content_query(${v})
      and p.start_time >= ${w.from} and p.start_time < ${w.to}::timestamptz + ${LONGEST_REQUEST}::interval)`,
}

function filterSql(sql: Db, filters: StreamFilters, window: TimeWindow): Fragment {
  return STREAM_FILTER_KEYS.reduce((all, key) => {
    const value = filters[key]
    if (value === undefined) return all
    return sql`${all} ${(CONDITIONS[key] as Condition<FilterKey>)(sql, value as never, window)}`
  }, sql``)
}

/** How many times each of `rows` was resumed. */
async function countResumes(sql: Db, rows: { trace_id: string; span_id: string; start_time: Date }[]): Promise<Map<string, number>> {
  if (rows.length === 0) return new Map()
  const since = new Date(Math.min(...rows.map((r) => r.start_time.getTime())))
  const counted = await sql<{ span_id: string; resumes: number }[]>`
    select r.parent_span_id as span_id, count(*)::int as resumes
    from telemetry.spans_and_lost r
    where r.trace_id = any(${rows.map((r) => r.trace_id)}::text[]) and r.parent_span_id = any(${rows.map((r) => r.span_id)}::text[])
      and ${sql.unsafe(RESUME_SPAN)} and r.start_time >= ${since}
    group by r.parent_span_id`
  return new Map(counted.map((c) => [c.span_id, c.resumes]))
}

const STREAM_COLUMNS = streamColumns('s')

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
      ? sql`and (${key}, s.start_time, s.span_id) ${cmp} (${cursor.k ?? -1}::float8, ${at}, ${cursor.s})`
      : sql`and (s.start_time, s.span_id) ${cmp} (${at}, ${cursor.s})`
  }
  const rows = await sql<Stored[]>`
    select ${sql.unsafe(STREAM_COLUMNS)}, s.start_time::text as t_key, ${key ?? sql`null::float8`} as k
    from telemetry.spans_and_lost s
    where s.kind = 'server' and s.function is not null
      and s.start_time >= ${q.window.from} and s.start_time < ${q.window.to}
      ${filterSql(sql, q.filters, q.window)}
      ${seek}
    order by ${key ? sql`${key} ${order},` : sql``} s.start_time ${order}, s.span_id ${order}
    limit ${q.limit + 1}`

  const more = rows.length > q.limit
  const page = rows.slice(0, q.limit)
  if (backwards) page.reverse()
  const resumes = await countResumes(sql, page)
  const cursorOf = (r: Stored) => encodeCursor({ k: r.k, t: r.t_key, s: r.span_id })
  const first = page[0]
  const last = page.at(-1)
  // Going forward, rows precede this page exactly when we came from a cursor; going back,
  // rows follow it (the page we came from).
  const next = last && (backwards ? true : more) ? cursorOf(last) : null
  const prev = first && (backwards ? more : Boolean(cursor)) ? cursorOf(first) : null
  return {
    rows: page.map(({ t_key: _t, k: _k, ...r }) => ({ ...r, start_time: r.start_time.toISOString(), resumes: resumes.get(r.span_id) ?? 0 })),
    next,
    prev,
  }
}
