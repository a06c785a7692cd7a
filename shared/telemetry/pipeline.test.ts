import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import postgres from 'postgres'
import { createTelemetryPipeline, type DropReport } from './pipeline.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { until } from '../../tests/support/wait.ts'
import { findPgBin, startCluster } from '../../tests/support/pg-cluster.ts'
import { migrate } from '../db/migrate.ts'
import { NO_DELAY_SOCKET } from '../db/pg-socket.ts'
import { readMigrations } from '../../server/migrations.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

let n = 0
function span(over: Partial<SpanRow> = {}): SpanRow {
  const start = over.start_time ?? new Date()
  return {
    trace_id: (n++).toString(16).padStart(32, '0'), span_id: n.toString(16).padStart(16, '0'), parent_span_id: null,
    name: 'POST /functions/v1/chat', kind: 'server', start_time: start, end_time: new Date(start.getTime() + 5),
    duration_ms: 5, status_code: 'unset', status_message: null, function: 'chat', model: 'sim-1', ttfb_ms: 1.5,
    input_tokens: 3, output_tokens: null, error_type: null, user_id: 'u', session_id: null,
    attributes: { 'a.b': 'it\'s "quoted"\n', n: 1 }, events: [{ name: 'first_token', time: '2026-11-25T12:00:00.001Z' }],
    frame_offsets_ms: null, frames: null, bytes: null, end_reason: null, stalls: null, max_gap_ms: null,
    usage_estimated: null, http_status: null, run_id: null, ...over,
  }
}
const log = (message: string): LogRow => ({ time: new Date(), level: 'info', trace_id: null, span_id: null, message, attributes: { k: [1, 2] } })

describe('telemetry pipeline', () => {
  it('writes spans and logs in batches, values intact', async () => {
    const p = createTelemetryPipeline(db.sql, { batchSize: 100, flushIntervalMs: 5 })
    const rows = Array.from({ length: 250 }, () => span({ name: 'batch-test' }))
    p.pushSpans(rows)
    p.pushLogs([log('batch-log')])
    await p.flush()
    const stored = await db.sql`select * from telemetry.spans where name = 'batch-test' order by trace_id`
    expect(stored).toHaveLength(250)
    expect(stored[0].attributes).toEqual(rows[0].attributes)
    expect(stored[0].events).toEqual([{ name: 'first_token', time: '2026-11-25T12:00:00.001Z' }])
    expect(stored[0].ttfb_ms).toBe(1.5)
    expect(stored[0].output_tokens).toBeNull()
    const [l] = await db.sql`select attributes from telemetry.logs where message = 'batch-log'`
    expect(l.attributes).toEqual({ k: [1, 2] })
    expect(p.stats()).toMatchObject({ written: 251, queued: 0, dropped: 0, fallbacks: 0 })
  })

  it('under a steady trickle writes one batch per interval: rows that arrive during a write wait for the next', async () => {
    // Rows arriving while a batch is being written wait for the next interval (or a whole
    // batch) instead of starting a write as soon as the last one ends: a train of small
    // transactions costs Node and Postgres 2-3x more CPU per span. The pipeline's timers run on
    // a fake clock, its writes on the real database; a lock the test holds on telemetry.spans
    // keeps the first write in flight while rows arrive, however fast or slow the machine.
    // The product's socket (TCP_NODELAY): without it every COPY waits out a delayed ACK.
    const sql = postgres(db.url, { max: 4, onnotice: () => {}, ...NO_DELAY_SOCKET })
    // postgres.js opens a connection from a timer: every one used here is opened before the clock is faked.
    await Promise.all([sql, sql, sql, sql, db.sql, db.sql, db.sql].map((s) => s`select pg_sleep(0.05)`))
    const holder = await db.sql.reserve()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const p = createTelemetryPipeline(sql, { flushIntervalMs: 250 })
      const trickle = (at: number) => p.pushSpans([span({ name: `trickle-${at}`, kind: 'internal', function: null, input_tokens: null })])
      const stored = async () => (await db.sql`select name from telemetry.spans where name like 'trickle-%'`).map((r) => r.name).sort()
      const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms)
      await holder`begin`
      await holder`lock table telemetry.spans in share mode`
      trickle(0); await elapse(100)
      trickle(100); await elapse(100)
      trickle(200); await elapse(50)
      // 250 ms after the first row (the later ones do not push it back) the write starts, and waits on the lock.
      await until(async () => (await db.sql`select 1 from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`).length > 0, 'the first write')
      trickle(250); await elapse(100)
      trickle(350)
      await holder`commit`
      await until(() => p.stats().batches >= 1, 'the first write to end')
      await elapse(50)
      trickle(400); await elapse(99)
      // 499 ms: the rows that came during the first write are still waiting, for 250 ms after the oldest of them.
      expect(p.stats()).toMatchObject({ batches: 1, written: 3, queued: 3 })
      await elapse(1)
      await until(async () => (await stored()).length === 6 && p.stats().queued === 0, 'the second write')
      expect(await stored()).toEqual(['trickle-0', 'trickle-100', 'trickle-200', 'trickle-250', 'trickle-350', 'trickle-400'])
      // Two batches of three: writing the rows of the first write's time at once would have made three.
      expect(p.stats()).toMatchObject({ batches: 2, written: 6, dropped: 0 })
      vi.useRealTimers()
      await p.shutdown()
    } finally {
      vi.useRealTimers()
      await holder`rollback`.catch(() => {})
      holder.release()
      await sql.end()
    }
  })

  it('stores the per-stream columns and prices the span at the price in force when it started', async () => {
    const errors: unknown[] = []
    const p = createTelemetryPipeline(db.sql, { onError: (e) => errors.push(e) })
    await db.sql`insert into telemetry.model_prices values ('price-test', now() - interval '10 days', 1, 2), ('price-test', now() - interval '1 day', 10, 20)`
    const old = new Date(Date.now() - 5 * 86400_000)
    p.pushSpans([
      span({ name: 'stream-cols', model: 'price-test', input_tokens: 1000, output_tokens: 500, frame_offsets_ms: [12.345, 20, 1999.99],
        frames: 3, bytes: 300, end_reason: 'done', stalls: 0, max_gap_ms: 1979.99, usage_estimated: true, http_status: 200, run_id: 'run-1' }),
      span({ name: 'stream-cols-old', model: 'price-test', input_tokens: 1000, output_tokens: 500, start_time: old }),
      span({ name: 'stream-cols-unpriced', model: 'no-such-model', input_tokens: 1000 }),
    ])
    await p.flush()
    expect(errors).toEqual([])
    const [row] = await db.sql`select * from telemetry.spans where name = 'stream-cols'`
    expect(row).toMatchObject({ frames: 3, bytes: 300, end_reason: 'done', stalls: 0, usage_estimated: true, http_status: 200, run_id: 'run-1' })
    expect(row.frame_offsets_ms.map(Number)).toEqual([12.35, 20, 1999.99])
    expect(Number(row.cost_usd)).toBeCloseTo((1000 * 10 + 500 * 20) / 1e6, 8)
    const [oldRow] = await db.sql`select cost_usd from telemetry.spans where name = 'stream-cols-old'`
    expect(Number(oldRow.cost_usd)).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 8)
    const [unpriced] = await db.sql`select cost_usd from telemetry.spans where name = 'stream-cols-unpriced'`
    expect(unpriced.cost_usd).toBeNull()
  })

  it('writes a retried batch once: spans are not duplicated, rollups not double counted', async () => {
    const p = createTelemetryPipeline(db.sql)
    const rows = [span({ name: 'retried', kind: 'server', function: 'chat', user_id: 'retry-user', http_status: 200 })]
    p.pushSpans(rows)
    await p.flush()
    p.pushSpans(rows)
    await p.flush()
    const [{ count }] = await db.sql`select count(*)::int as count from telemetry.spans where name = 'retried'`
    expect(count).toBe(1)
    const [r] = await db.sql`select sum(requests)::int as requests from telemetry.rollup_minute where user_id = 'retry-user'`
    expect(r.requests).toBe(1)
  })

  it.each([true, false])('COPY %s: mixed batches, a replay, a missing day and a bad row — each span stored once', async (copy) => {
    const errors: unknown[] = []
    const p = createTelemetryPipeline(db.sql, { copy, onError: (e) => errors.push(e) })
    const name = `mixed-${copy}`
    const plain = Array.from({ length: 30 }, () => span({ name, kind: 'internal', function: null, input_tokens: null }))
    const rich = Array.from({ length: 5 }, () => span({ name, kind: 'server', function: 'chat', user_id: name, http_status: 200 }))
    p.pushSpans([...plain, ...rich])
    await p.flush()
    p.pushSpans([...plain.slice(0, 10), ...rich.slice(0, 2)]) // replayed after an unknown commit outcome
    await p.flush()
    const old = new Date(Date.now() - (copy ? 50 : 51) * 86400_000)
    p.pushSpans([span({ name, kind: 'internal', function: null, input_tokens: null, start_time: old })])
    p.pushSpans([span({ name, kind: 'internal', function: null, input_tokens: null, attributes: { bad: '\ud800' } })])
    await p.flush()
    const [{ count }] = await db.sql`select count(*)::int as count from telemetry.spans where name = ${name}`
    expect(count).toBe(36)
    const [r] = await db.sql`select sum(requests)::int as requests from telemetry.rollup_minute where user_id = ${name}`
    expect(r.requests).toBe(5)
    expect(p.stats()).toMatchObject({ rejected: 1, queued: 0, dropped: 0, failures: 0 })
    // COPY: the clean first batch went the fast way; the replay did not, nor the batch of the
    // old day and the bad row, nor (split to find the bad row) each of its halves.
    expect(p.stats().fallbacks).toBe(copy ? 4 : 0)
    expect(errors).toHaveLength(1) // the bad row, reported
  })

  it('isolates a row the database refuses and writes the rest of its batch', async () => {
    const p = createTelemetryPipeline(db.sql, { onError: () => {} })
    const rows = Array.from({ length: 9 }, (_, i) => log(`poison-${i}`))
    rows[4] = { ...rows[4], attributes: { broken: 'half a surrogate pair: \ud800' } }
    p.pushLogs(rows)
    p.pushLogs([{ ...log('nul-in-text\u0000!'), attributes: { nul: 'a\u0000b' } }])
    await p.flush()
    const stored = await db.sql`select message, attributes from telemetry.logs where message like 'poison-%' or message like 'nul-in-text%' order by message`
    expect(stored.map((r) => r.message)).toEqual(['nul-in-text!', ...[0, 1, 2, 3, 5, 6, 7, 8].map((i) => `poison-${i}`)])
    expect(stored[0].attributes).toEqual({ nul: 'ab' })
    expect(p.stats()).toMatchObject({ rejected: 1, queued: 0, dropped: 0 })
  })

  it.each([true, false])('COPY %s: a row JSON cannot hold or without a required value is rejected, the rest written', async (copy) => {
    const errors: unknown[] = []
    const p = createTelemetryPipeline(db.sql, { copy, onError: (e) => errors.push(e) })
    p.pushLogs([log(`warm-${copy}`)]) // the first write settles the mode: later rows are encoded when pushed
    await p.flush()
    const cyclic: Record<string, unknown> = { k: 1 }
    cyclic.self = cyclic
    const rows = Array.from({ length: 6 }, (_, i) => log(`refused-${copy}-${i}`))
    rows[1] = { ...rows[1], attributes: cyclic }
    rows[4] = { ...rows[4], message: null as unknown as string } // telemetry.logs.message is not null
    p.pushLogs(rows)
    await p.flush()
    const stored = await db.sql`select message from telemetry.logs where message like ${`refused-${copy}-%`} order by message`
    expect(stored.map((r) => r.message)).toEqual([0, 2, 3, 5].map((i) => `refused-${copy}-${i}`))
    expect(p.stats()).toMatchObject({ rejected: 2, queued: 0, dropped: 0, failures: 0 })
    expect(errors).toHaveLength(2)
  })

  it('reports drops at most once per window, and only when there are new ones', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    onTestFinished(() => { vi.useRealTimers() })
    const dead = postgres('postgres://postgres@127.0.0.1:1/none', { max: 1, connect_timeout: 1, onnotice: () => {} })
    const reports: DropReport[] = []
    const p = createTelemetryPipeline(dead, { maxQueue: 10, flushIntervalMs: 60_000, retryMinMs: 60_000, dropReportMs: 200, onDrops: (r) => reports.push(r), onError: () => {} })
    p.pushSpans(Array.from({ length: 15 }, () => span()))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ dropped_since_last: 5, dropped: 5, queued: 10 })
    p.pushSpans(Array.from({ length: 3 }, () => span()))
    p.pushSpans(Array.from({ length: 4 }, () => span()))
    expect(reports).toHaveLength(1) // inside the window: held back
    vi.advanceTimersByTime(199)
    expect(reports).toHaveLength(1)
    vi.advanceTimersByTime(1) // the window is over: one line for both pushes
    expect(reports).toHaveLength(2)
    expect(reports[1]).toMatchObject({ dropped_since_last: 7, dropped: 12 })
    vi.advanceTimersByTime(1_000)
    expect(reports).toHaveLength(2) // no new drops, no line
    vi.useRealTimers()
    await p.shutdown()
    await dead.end()
  })

  it('creates a missing day partition instead of losing the rows', async () => {
    const p = createTelemetryPipeline(db.sql)
    const old = new Date(Date.now() - 40 * 86400_000)
    p.pushSpans([span({ name: 'old-span', start_time: old })])
    await p.flush()
    const [row] = await db.sql`select tableoid::regclass::text as part from telemetry.spans where name = 'old-span'`
    expect(row.part).toBe(`telemetry.spans_${old.toISOString().slice(0, 10).replaceAll('-', '')}`)
  })

  it('holds at most maxQueue rows while the database is unreachable, counting drops', async () => {
    const dead = postgres('postgres://postgres@127.0.0.1:1/none', { max: 1, connect_timeout: 1, onnotice: () => {} })
    const errors: unknown[] = []
    const p = createTelemetryPipeline(dead, { maxQueue: 100, flushIntervalMs: 1, retryMinMs: 10_000, onError: (e) => errors.push(e) })
    p.pushSpans(Array.from({ length: 150 }, () => span()))
    await p.flush()
    expect(errors.length).toBeGreaterThan(0)
    expect(p.stats()).toMatchObject({ queued: 100, dropped: 50, written: 0 })
    await p.shutdown()
    await dead.end()
  })

  it.skipIf(!findPgBin())('keeps rows through a Postgres restart and writes them when it is back', async () => {
    const cluster = await startCluster(findPgBin()!)
    const sql = postgres(cluster.url, { max: 2, connect_timeout: 2, onnotice: () => {} })
    try {
      await migrate(sql, await readMigrations())
      await sql`checkpoint` // commits are asynchronous and the stop immediate: keep the migrations
      const p = createTelemetryPipeline(sql, { flushIntervalMs: 5, retryMinMs: 20, retryMaxMs: 100 })
      cluster.stop()
      p.pushSpans(Array.from({ length: 20 }, () => span({ name: 'survivor' })))
      await p.flush()
      expect(p.stats().failures).toBeGreaterThan(0)
      expect(p.stats().queued).toBe(20)
      cluster.start()
      await until(() => p.stats().queued === 0, 'the held rows to be written')
      const [{ count }] = await sql`select count(*)::int as count from telemetry.spans where name = 'survivor'`
      expect(count).toBe(20)
      expect(p.stats().dropped).toBe(0)
    } finally {
      await sql.end({ timeout: 1 })
      cluster.destroy()
    }
  })
})
