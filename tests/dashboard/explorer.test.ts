// The streams explorer's incident filters, resume counts and full-text search on a real
// PostgreSQL with the migrations applied: each filter returns exactly the rows a plain
// predicate over every row picks; a resume counts once for its stream wherever it ran;
// search finds the turn's stored (redacted) prompt and answer and nothing else; and saved
// views are written only through their functions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedTelemetry } from '../../scripts/seed-telemetry.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { insertSpans } from '../../shared/telemetry/insert.ts'
import { SPAN_NULLS, type SpanRow } from '../../shared/telemetry/span-columns.ts'
import { parseStreamFilters, type StreamFilters } from '../../dashboard/src/lib/filters.ts'
import { CAPTURED_SPAN, RESUME_SPAN, listStreams } from '../../dashboard/src/lib/server/explorer.ts'
import { viewQuery } from '../../dashboard/src/lib/server/views.ts'
import { PRESETS } from '../../dashboard/src/routes/streams/presets.ts'
import type { ExplorerRow } from '../../dashboard/src/lib/types.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
const END = new Date(Math.floor(Date.now() / 60_000) * 60_000)
const window = { from: new Date(END.getTime() - 86_400_000), to: END }
let all: ExplorerRow[]

const list = async (filters: StreamFilters, limit = 500) =>
  (await listStreams(db.sql, { window, filters, sort: 'time', dir: 'desc', limit })).rows

const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('')

function span(over: Partial<SpanRow> & Pick<SpanRow, 'trace_id' | 'name' | 'kind'>, at: Date): SpanRow {
  return {
    ...SPAN_NULLS, span_id: hex(8), start_time: at, end_time: new Date(at.getTime() + 1000), duration_ms: 1000,
    status_code: 'unset', attributes: {}, ...over,
  }
}

/** A chat request span with its provider span (content captured when given), as the chat function writes them. */
function chat(at: Date, content?: { prompt: string; answer: string }): SpanRow[] {
  const trace_id = hex(16)
  const root = span({ trace_id, name: 'POST /functions/v1/chat', kind: 'server', function: 'chat', model: 'sim-1', end_reason: 'done', http_status: 200, frames: 3, stalls: 0 }, at)
  const messages = content ? {
    [ATTR.inputMessages]: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'an earlier turn about walruses' }] }, { role: 'user', parts: [{ type: 'text', content: content.prompt }] }]),
    [ATTR.outputMessages]: JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: content.answer }], finish_reason: 'stop' }]),
  } : {}
  const provider = span({ trace_id, parent_span_id: root.span_id, name: 'chat sim-1', kind: 'client', model: 'sim-1', attributes: messages }, new Date(at.getTime() + 10))
  return [root, provider]
}

/** A resume of `stream`: a request of its own, on its trace, under its request span. */
const resume = (stream: SpanRow, at: Date, fromSeq: number) => span({
  trace_id: stream.trace_id, parent_span_id: stream.span_id, name: 'POST /functions/v1/chat', kind: 'server', function: 'chat', http_status: 200,
  attributes: { [ATTR.resumeFromSeq]: fromSeq, [ATTR.resumeTraceId]: stream.trace_id },
}, at)

let resumed: SpanRow
let searched: SpanRow
let uncaptured: SpanRow

beforeAll(async () => {
  db = await freshDatabase()
  await seedTelemetry(db.sql, { spans: 2500, days: 1, seed: 11, end: new Date(END.getTime() - 3_600_000), concurrency: 1 })
  const at = (minutesAgo: number) => new Date(END.getTime() - minutesAgo * 60_000)
  const a = chat(at(30))
  const b = chat(at(20), { prompt: 'why is the zebra striped?', answer: 'Stripes confuse biting flies.' })
  const c = chat(at(10))
  resumed = a[0]!
  searched = b[0]!
  uncaptured = c[0]!
  // Resumed twice, once at an isolate that followed the frame log: neither is on the stream's own span.
  await insertSpans(db.sql, [...a, ...b, ...c, resume(resumed, at(29), 2), resume(resumed, at(28), 3)])
  all = await list({})
  expect(all.length).toBeGreaterThan(100)
  expect(all.length).toBeLessThan(500)
}, 120_000)

afterAll(async () => {
  await db?.drop()
})

describe('incident filters', () => {
  // Each filter against a predicate of its own over every row of the window.
  const cases: [string, (r: ExplorerRow) => boolean][] = [
    ['end_reason=client_abort', (r) => r.end_reason === 'client_abort'],
    ['end_reason=done', (r) => r.end_reason === 'done'],
    ['http_status=429', (r) => r.http_status === 429],
    ['min_ttfb_ms=800', (r) => (r.ttfb_ms ?? -1) >= 800],
    ['min_duration_ms=5000', (r) => r.duration_ms >= 5000],
    ['stalled=1', (r) => (r.stalls ?? 0) > 0],
    ['resumed=1', (r) => r.resumes > 0],
    ['function=chat&end_reason=done&min_ttfb_ms=300', (r) => r.function === 'chat' && r.end_reason === 'done' && (r.ttfb_ms ?? -1) >= 300],
  ]
  for (const [query, expected] of cases) {
    it(`${query} returns exactly the rows it names`, async () => {
      const filters = parseStreamFilters(new URLSearchParams(query))
      if (!filters.ok) throw new Error(filters.message)
      const want = all.filter(expected).map((r) => r.span_id)
      expect(want.length, `${query} must match something for the test to mean anything`).toBeGreaterThan(0)
      expect(want.length).toBeLessThan(all.length)
      expect((await list(filters.value)).map((r) => r.span_id)).toEqual(want)
    })
  }

  it('filters by error code and session', async () => {
    const failed = all.find((r) => r.error_type && r.session_id)!
    expect((await list({ error_code: failed.error_type! })).map((r) => r.span_id)).toEqual(all.filter((r) => r.error_type === failed.error_type).map((r) => r.span_id))
    expect((await list({ session: failed.session_id! })).map((r) => r.span_id)).toEqual(all.filter((r) => r.session_id === failed.session_id).map((r) => r.span_id))
  })
})

describe('resumes', () => {
  it('counts every resume of a stream on its row, and none on the resumes themselves', async () => {
    const rows = await list({ resumed: true })
    expect(rows.map((r) => [r.span_id, r.resumes])).toEqual([[resumed.span_id, 2]])
    const resumes = all.filter((r) => r.trace_id === resumed.trace_id && r.span_id !== resumed.span_id)
    expect(resumes).toHaveLength(2)
    expect(resumes.every((r) => r.resumes === 0)).toBe(true)
  })

  it('counts them on every page, whatever the sort', async () => {
    const byTtfb = await listStreams(db.sql, { window, filters: {}, sort: 'ttfb', dir: 'asc', limit: 500 })
    expect(byTtfb.rows.find((r) => r.span_id === resumed.span_id)?.resumes).toBe(2)
  })
})

describe('full-text search', () => {
  it('finds the turn by a word of its prompt or its answer, and opens its request', async () => {
    for (const q of ['zebra', 'Zebra striped', 'flies', '"biting flies"', 'zebra -walrus']) {
      expect((await list({ q })).map((r) => r.trace_id), q).toEqual([searched.trace_id])
    }
  })

  it('does not match the JSON around the words, earlier turns, or words it does not hold', async () => {
    for (const q of ['role', 'text', 'assistant', 'stop', 'walruses', 'giraffe', '"flies biting"', 'zebra -flies']) {
      expect(await list({ q }), q).toEqual([])
    }
  })

  it('finds nothing where content capture recorded nothing (the stored conversation is not searched), nor outside the window', async () => {
    // public.messages holds every conversation, unredacted, capture or not: never what search reads.
    const user = crypto.randomUUID()
    await db.sql`insert into public.messages (session_id, user_id, role, content, trace_id)
      values (${crypto.randomUUID()}, ${user}, 'user', 'tell me about the capybara', ${uncaptured.trace_id})`
    expect(await list({ q: 'capybara' })).toEqual([])
    const before = { from: new Date(END.getTime() - 2 * 86_400_000), to: new Date(END.getTime() - 86_400_000) }
    expect((await listStreams(db.sql, { window: before, filters: { q: 'zebra' }, sort: 'time', dir: 'desc', limit: 50 })).rows).toEqual([])
  })

  it('searches a captured value that is not the messages JSON as it is, without failing the insert', async () => {
    const [root, provider] = chat(new Date(END.getTime() - 5 * 60_000))
    provider!.attributes = { [ATTR.inputMessages]: 'not json: okapi', [ATTR.outputMessages]: '[REDACTED]' }
    await insertSpans(db.sql, [root!, provider!])
    expect((await list({ q: 'okapi' })).map((r) => r.span_id)).toEqual([root!.span_id])
  })
})

describe('indexes', () => {
  // The explorer's conditions name the same attribute keys as the partial indexes' predicates,
  // or Postgres could not use them: the plans say so.
  const plan = (query: string) => db.sql.begin(async (tx) => {
    await tx`set local enable_seqscan = off`
    const rows = await tx.unsafe(`explain ${query}`)
    return rows.map((r) => String(r['QUERY PLAN'])).join('\n')
  })

  it('reads resumes and captured content through their partial indexes', async () => {
    expect(await plan(`select 1 from telemetry.spans r where r.trace_id = '${resumed.trace_id}' and ${RESUME_SPAN}`)).toMatch(/Scan (on|using) spans_\d+_trace_id_parent_span_id_idx/)
    expect(await plan(`select 1 from telemetry.spans p where ${CAPTURED_SPAN} and telemetry.captured_tsvector(p.attributes) @@ telemetry.content_query('zebra')`))
      .toMatch(/Scan (on|using) spans_\d+_captured_tsvector_idx/)
  })
})

describe('saved views', () => {
  it('every preset is a query the explorer takes, stored as it is', () => {
    for (const preset of PRESETS) expect(viewQuery(preset.query)).toEqual({ ok: true, value: preset.query })
  })

  it('a view keeps the explorer parameters, sorted, without the page cursor or empty ones', () => {
    expect(viewQuery('?status=error&after=abc&model=&range=24h&sort=ttfb')).toEqual({ ok: true, value: 'range=24h&sort=ttfb&status=error' })
    expect(viewQuery('end_reason=nope')).toMatchObject({ ok: false, message: expect.stringMatching(/^end_reason must be one of/) })
    expect(viewQuery('range=90d').ok).toBe(false)
  })

  it('are written only through telemetry.save_view and telemetry.delete_view, names unique in any case', async () => {
    const asDashboard = <T>(run: (tx: typeof db.sql) => Promise<T>) => db.sql.begin(async (tx) => {
      await tx`set local role streamscope_dashboard`
      return run(tx as unknown as typeof db.sql)
    })
    await expect(asDashboard((tx) => tx`insert into telemetry.saved_views (name, query, saved_by) values ('x', '', 'me')`)).rejects.toMatchObject({ code: '42501' })
    const [first] = await asDashboard((tx) => tx`select * from telemetry.save_view('Stalls', 'stalled=1', 'ana')`)
    const [again] = await asDashboard((tx) => tx`select * from telemetry.save_view(' stalls ', 'range=24h&stalled=1', 'bo')`)
    expect(again).toMatchObject({ id: first!.id, name: 'stalls', query: 'range=24h&stalled=1', saved_by: 'bo' })
    expect(await asDashboard((tx) => tx`select name, query from telemetry.saved_views`)).toEqual([{ name: 'stalls', query: 'range=24h&stalled=1' }])
    await expect(asDashboard((tx) => tx`select * from telemetry.save_view('', 'x=1', 'ana')`)).rejects.toMatchObject({ code: '23514' })
    await expect(asDashboard((tx) => tx`delete from telemetry.saved_views`)).rejects.toMatchObject({ code: '42501' })
    expect(await asDashboard((tx) => tx`select telemetry.delete_view(${first!.id}::bigint) as gone`)).toEqual([{ gone: true }])
    expect(await asDashboard((tx) => tx`select telemetry.delete_view(${first!.id}::bigint) as gone`)).toEqual([{ gone: false }])
  })
})
