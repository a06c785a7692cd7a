import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import postgres from 'postgres'
import { createTelemetryPipeline } from './pipeline.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { findPgBin, startCluster } from '../../tests/support/pg-cluster.ts'
import { migrate } from '../db/migrate.ts'
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
    attributes: { 'a.b': 'it\'s "quoted"\n', n: 1 }, events: [{ name: 'first_token' }], ...over,
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
    expect(stored[0].events).toEqual([{ name: 'first_token' }])
    expect(stored[0].ttfb_ms).toBe(1.5)
    expect(stored[0].output_tokens).toBeNull()
    const [l] = await db.sql`select attributes from telemetry.logs where message = 'batch-log'`
    expect(l.attributes).toEqual({ k: [1, 2] })
    expect(p.stats()).toMatchObject({ written: 251, queued: 0, dropped: 0 })
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
      const p = createTelemetryPipeline(sql, { flushIntervalMs: 5, retryMinMs: 20, retryMaxMs: 100 })
      cluster.stop()
      p.pushSpans(Array.from({ length: 20 }, () => span({ name: 'survivor' })))
      await p.flush()
      expect(p.stats().failures).toBeGreaterThan(0)
      expect(p.stats().queued).toBe(20)
      cluster.start()
      for (let i = 0; i < 100 && p.stats().queued > 0; i++) await new Promise((r) => setTimeout(r, 50))
      const [{ count }] = await sql`select count(*)::int as count from telemetry.spans where name = 'survivor'`
      expect(count).toBe(20)
      expect(p.stats().dropped).toBe(0)
    } finally {
      await sql.end({ timeout: 1 })
      cluster.destroy()
    }
  })
})
