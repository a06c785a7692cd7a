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
