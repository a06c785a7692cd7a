// A client's mistake in a URL is a 400 that says which parameter, on every JSON route and
// every page that reads one, never a 500 from the query Postgres refused: a NUL in a filter,
// an impossible time in a paging cursor, garbage where a trace or message id goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor } from '../../dashboard/src/lib/server/explorer.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { OPERATOR, SECRET } from './support.ts'

let db: TestDatabase
let server: RunningServer

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({ DATABASE_URL: db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR })
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

const get = (path: string) => fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${OPERATOR}` }, redirect: 'manual' })

const cursor = (t: string, k: number | null = null) => encodeCursor({ k, t, s: '0123456789abcdef' })

/** Times Postgres prints, and times that only look like them. */
const GOOD_TIMES = ['2026-12-04 10:00:00+00', '2026-12-04 10:00:00.123456+00', '2028-02-29 23:59:59.5-03:30', '0001-01-01 00:00:00+00', '9999-12-31 23:59:59+15:59']
const IMPOSSIBLE_TIMES = [
  '2026-13-01 00:00:00+00', '2026-00-10 00:00:00+00', '2026-02-30 00:00:00+00', '2027-02-29 00:00:00+00', '2026-04-31 00:00:00+00',
  '2026-12-04 24:00:00+00', '2026-12-04 10:60:00+00', '2026-12-04 10:00:61+00', '2026-12-04 99:99:99+00', '0000-01-01 00:00:00+00',
  '2026-12-04 10:00:00+16', '2026-12-04 10:00:00+05:60',
]

async function expectApi400(path: string, mentions: RegExp) {
  const res = await get(path)
  expect(res.status, path).toBe(400)
  expect(res.headers.get('content-type'), path).toMatch(/^application\/json/)
  const body = await res.json() as { error: { code: string; message: string; trace_id: string } }
  expect(body.error.code, path).toBe('invalid_request')
  expect(body.error.message, path).toMatch(mentions)
  // A bug report can quote it: on the body and in the header alike.
  expect(body.error.trace_id, path).toMatch(/^[0-9a-f]{32}$/)
  expect(res.headers.get('x-trace-id'), path).toBe(body.error.trace_id)
}

async function expectPage400(path: string, mentions: RegExp) {
  const res = await get(path)
  expect(res.status, path).toBe(400)
  const html = await res.text()
  expect(html, path).toContain('data-testid="error-page"')
  expect(html, path).toMatch(mentions)
}

describe('a NUL in a filter', () => {
  it('is a 400 JSON error on every API route that filters', async () => {
    for (const path of [
      '/api/overview?model=%00', '/api/overview?user=a%00b', '/api/streams?user=%00', '/api/streams?model=x%00',
      '/api/spend?model=%00', '/api/spend?user=%00', '/api/spend/daily.csv?model=%00', '/api/spend/daily.csv?range=7d&user=%00',
    ]) await expectApi400(path, /(model|user) must not contain NUL/)
    // The whitelisted filters never reached Postgres, and still say which.
    await expectApi400('/api/streams?function=%00', /^function must/)
    await expectApi400('/api/overview?status=%00', /^status must/)
  })

  it('is a 400 page on every page that filters', async () => {
    for (const path of ['/?model=%00', '/?range=24h&user=%00', '/spend?model=%00', '/spend?range=7d&user=%00', '/streams?model=%00', '/streams?user=%00&sort=ttfb']) {
      await expectPage400(path, /(model|user) must not contain NUL/)
    }
  })

  it('still serves the same routes without it', async () => {
    for (const path of ['/api/overview?model=m', '/api/streams?user=u', '/api/spend?model=m', '/api/spend/daily.csv?model=m', '/?model=m', '/spend?model=m', '/streams?model=m']) {
      const res = await get(path)
      expect(res.status, path).toBe(200)
      await res.body?.cancel()
    }
  })
})

describe('a paging cursor', () => {
  it('is decoded only when Postgres takes its time as a timestamptz', async () => {
    const casts = async (t: string) => db.sql`select ${t}::text::timestamptz as t`.then(() => true, () => false)
    for (const t of GOOD_TIMES) {
      expect(decodeCursor(cursor(t)), t).not.toBeNull()
      expect(await casts(t), t).toBe(true)
    }
    // Postgres takes 24:00:00 and a leap second :60 as the next minute; no cursor holds either.
    for (const t of IMPOSSIBLE_TIMES) expect(decodeCursor(cursor(t)), t).toBeNull()
    expect((await Promise.all(IMPOSSIBLE_TIMES.map(casts))).filter(Boolean)).toHaveLength(1)
  })

  it('keeps the microseconds of its time: rows in one millisecond are each paged once', async () => {
    const traces = ['a', 'b', 'c'].map((c) => c.repeat(32))
    await db.sql`
      insert into telemetry.spans (trace_id, span_id, name, kind, start_time, end_time, duration_ms, function)
      select t, right(t, 16), 'POST /functions/v1/chat', 'server', at, at, 1, 'chat'
      from unnest(${traces}::text[], array[100, 400, 700]) as x(t, us),
           lateral (select date_trunc('milliseconds', now() - interval '1 minute') + us * interval '1 microsecond' as at) y`
    const seen: string[] = []
    let after = ''
    for (let i = 0; i < 5; i++) {
      const res = await get(`/api/streams?range=15m&limit=1${after}`)
      expect(res.status).toBe(200)
      const page = await res.json() as { streams: { trace_id: string }[]; next: string | null }
      seen.push(...page.streams.map((s) => s.trace_id))
      if (!page.next) break
      after = `&after=${page.next}`
    }
    expect(seen).toEqual([...traces].reverse())
  })

  it('holding an impossible time is a 400 from /api/streams and the streams page', async () => {
    for (const t of IMPOSSIBLE_TIMES) {
      for (const key of ['after', 'before']) {
        await expectApi400(`/api/streams?${key}=${cursor(t)}`, new RegExp(`${key} is not a cursor`))
        await expectApi400(`/api/streams?sort=ttfb&${key}=${cursor(t, 12)}`, new RegExp(`${key} is not a cursor`))
      }
    }
    await expectPage400(`/streams?after=${cursor('2026-02-30 10:00:00+00')}`, /after is not a cursor/)
  })

  it('holding a sort value JSON cannot carry back (1e400 is Infinity) is a 400', async () => {
    const raw = Buffer.from(`{"k":1e400,"t":"2026-12-04 10:00:00+00","s":"0123456789abcdef"}`).toString('base64url')
    await expectApi400(`/api/streams?sort=ttfb&after=${raw}`, /after is not a cursor/)
  })

  it('with a good time pages as before', async () => {
    for (const t of GOOD_TIMES.slice(0, 3)) {
      const res = await get(`/api/streams?range=30d&after=${cursor(t)}`)
      expect(res.status, t).toBe(200)
      expect((await res.json()).streams).toEqual(expect.any(Array))
    }
  })
})

describe('ids in URLs', () => {
  it('garbage where a trace or message id goes is a 400, never a query', async () => {
    for (const path of ['/api/traces/%00', `/api/traces/${'a'.repeat(31)}%00`, '/api/traces/%F0%9F%99%82', '/api/lookup?q=%00', `/api/lookup?q=${'0'.repeat(8)}-0000-0000-0000-00000000000%00`]) {
      const res = await get(path)
      expect(res.status, path).toBe(400)
      expect((await res.json()).error.code, path).toBe('invalid_request')
    }
    for (const path of ['/traces/%00', '/traces/not-a-trace', '/traces?id=%00', '/traces?id=x%00y']) {
      const res = await get(path)
      expect(res.status, path).toBe(400)
      expect(await res.text(), path).toContain('data-testid="error-page"')
    }
  })
})

describe('an explorer filter', () => {
  const BAD = [
    ['end_reason=finished', /^end_reason must be one of done, error, client_abort/],
    ['http_status=99', /^http_status must be an integer in \[100, 599\]/],
    ['http_status=5xx', /^http_status must be an integer/],
    ['min_ttfb_ms=-5', /^min_ttfb_ms must be a number/],
    ['min_duration_ms=slow', /^min_duration_ms must be a number/],
    ['stalled=yes', /^stalled must be 1/],
    ['resumed=0', /^resumed must be 1/],
    ['q=%22%22', /^q must contain a letter or a digit/],
    ['q=a%00', /^q must not contain NUL/],
    ['session=%00', /^session must not contain NUL/],
    ['error_code=%00', /^error_code must not contain NUL/],
  ] as const

  it('with a bad value is a 400 from /api/streams and the streams page, never ignored', async () => {
    for (const [query, mentions] of BAD) {
      await expectApi400(`/api/streams?range=1h&${query}`, mentions)
      await expectPage400(`/streams?${query}`, new RegExp(mentions.source.slice(1)))
    }
  })

  it('with a good value is served', async () => {
    const res = await get('/api/streams?range=24h&end_reason=cut&error_code=stream_cut&http_status=200&min_ttfb_ms=0.5&min_duration_ms=10&stalled=1&resumed=1&session=s&q=zebra')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ streams: [] })
  })
})

describe('saved views', () => {
  const send = (method: string, path: string, body?: unknown, type = 'application/json') => fetch(`${server.baseUrl}${path}`, {
    method, headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': type }, body: body === undefined ? undefined : JSON.stringify(body),
  })

  it('refuses a bad name, a query the explorer would refuse, and a bad id, saying which', async () => {
    for (const [body, mentions] of [
      [{ name: '', query: 'range=1h' }, /^name is required/],
      [{ name: 'x'.repeat(101), query: 'range=1h' }, /^name is longer than 100/],
      [{ name: 'a\u0000b', query: 'range=1h' }, /^name must not contain NUL/],
      [{ name: 'ok', query: 7 }, /^query must be a string/],
      [{ name: 'ok', query: 'status=broken' }, /^query: status must be one of/],
      [{ name: 'ok', query: 'range=custom&from=nope' }, /^query: from must be a date/],
      [{ name: 'ok', query: 'sort=price' }, /^query: sort must be one of/],
    ] as const) {
      const res = await send('POST', '/api/views', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect((await res.json()).error, JSON.stringify(body)).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(mentions) })
    }
    const form = await send('POST', '/api/views', { name: 'ok', query: '' }, 'text/plain')
    expect(form.status).toBe(400)
    for (const id of ['0', 'abc', '1.5', '99999999999999999999']) {
      const res = await send('DELETE', `/api/views/${id}`)
      expect(res.status, id).toBe(400)
      expect((await res.json()).error.code, id).toBe('invalid_request')
    }
    expect((await send('DELETE', '/api/views/424242')).status).toBe(404)
  })

  it('saves, lists and deletes a good one, without its page cursor', async () => {
    const saved = await send('POST', '/api/views', { name: 'Slow gpt-4o', query: '?range=24h&model=gpt-4o&min_ttfb_ms=2000&after=abc' })
    expect(saved.status).toBe(201)
    const { view } = await saved.json() as { view: { id: string; name: string; query: string; saved_by: string } }
    expect(view).toMatchObject({ name: 'Slow gpt-4o', query: 'min_ttfb_ms=2000&model=gpt-4o&range=24h' })
    expect((await (await get('/api/views')).json()).views).toEqual([expect.objectContaining({ id: view.id, query: view.query })])
    expect((await send('DELETE', `/api/views/${view.id}`)).status).toBe(200)
    expect((await (await get('/api/views')).json()).views).toEqual([])
  })
})
