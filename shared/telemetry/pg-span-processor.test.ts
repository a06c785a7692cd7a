import { TraceFlags } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { createPostgresSpanProcessor } from './pg-span-processor.ts'
import { createTelemetryPipeline } from './pipeline.ts'
import { createTelemetry } from './telemetry.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

it('queues each span in the pipeline a turn after it ends, with no batch processor in between, and stores it on flush', async () => {
  const telemetry = createTelemetry({ serviceName: 'test', sql: db.sql, writeLog: () => {}, pipeline: { flushIntervalMs: 60_000 } })
  const span = telemetry.tracer.startSpan('auth verify_jwt')
  span.end()
  // Not encoded inside span.end() (that is the stream's critical path)...
  expect(telemetry.pipeline!.stats().queued).toBe(0)
  await tick()
  // ...but by the next timer turn: nothing is held anywhere else, uncounted, for longer.
  expect(telemetry.pipeline!.stats().queued).toBe(1)
  await telemetry.flush()
  const rows = await db.sql`select name from telemetry.spans where trace_id = ${span.spanContext().traceId}`
  expect(rows.map((r) => r.name)).toEqual(['auth verify_jwt'])
  expect(telemetry.pipeline!.stats()).toMatchObject({ queued: 0, written: 1, dropped: 0 })
  await telemetry.shutdown()
})

it('flush and shutdown store a span that ended just before them', async () => {
  const telemetry = createTelemetry({ serviceName: 'test', sql: db.sql, writeLog: () => {}, pipeline: { flushIntervalMs: 60_000 } })
  const first = telemetry.tracer.startSpan('flushed at once')
  first.end()
  await telemetry.flush()
  const second = telemetry.tracer.startSpan('stored at shutdown')
  second.end()
  await telemetry.shutdown()
  const rows = await db.sql`select name from telemetry.spans where trace_id in (${first.spanContext().traceId}, ${second.spanContext().traceId}) order by name`
  expect(rows.map((r) => r.name)).toEqual(['flushed at once', 'stored at shutdown'])
})

it('skips unsampled spans, and reports a span it cannot make a row of instead of throwing into span.end()', async () => {
  const pipeline = createTelemetryPipeline(db.sql, { flushIntervalMs: 60_000 })
  const errors: unknown[] = []
  const processor = createPostgresSpanProcessor(pipeline, (err) => errors.push(err))
  const context = (traceFlags: number) => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags })
  processor.onEnd({ spanContext: () => context(TraceFlags.NONE) } as unknown as ReadableSpan)
  expect(pipeline.stats().queued).toBe(0)
  const broken = { spanContext: () => context(TraceFlags.SAMPLED), get attributes(): never { throw new Error('no attributes') } }
  expect(() => processor.onEnd(broken as unknown as ReadableSpan)).not.toThrow()
  await tick()
  expect(errors).toEqual([new Error('no attributes')])
  expect(pipeline.stats().queued).toBe(0)
  await pipeline.shutdown()
})
