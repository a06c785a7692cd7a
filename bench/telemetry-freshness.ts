// Freshness: from a stream's last byte at the client to its request span being
// queryable in telemetry.spans, with the production settings (spans reach the
// pipeline as they end; a row waits at most 250 ms for its batch). Polled every 10 ms,
// so figures are +0..10 ms.
import type { Sql } from 'postgres'
import { createTelemetry } from '../shared/telemetry/telemetry.ts'
import { createChatFixture } from '../tests/support/chat-fixture.ts'
import { BENCH_ENV, quantile, timedStream, type StreamTiming } from './telemetry-overhead.ts'

export async function benchFreshness(sql: Sql, o: { streams: number; concurrency: number }) {
  const telemetry = createTelemetry({ serviceName: 'bench-freshness', sql, writeLog: () => {} })
  const f = createChatFixture(sql, BENCH_ENV, undefined, { telemetry, broadcast: null })
  const token = await f.token(crypto.randomUUID(), 3600)
  const ended = new Map<string, StreamTiming>()
  const lags: number[] = []
  let running = true

  const poller = (async () => {
    while (running || ended.size) {
      const ids = [...ended.keys()]
      if (ids.length) {
        const rows = await sql`select trace_id from telemetry.spans where trace_id in ${sql(ids)} and parent_span_id is null`
        const now = Date.now()
        for (const { trace_id } of rows) {
          lags.push(now - ended.get(trace_id)!.endAt)
          ended.delete(trace_id)
        }
      }
      await new Promise((r) => setTimeout(r, 10))
    }
  })()

  let next = 0
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next++ < o.streams) {
      const t = await timedStream(f, token)
      ended.set(t.traceId, t)
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20)) // arrivals spread out, not in lockstep
    }
  }))
  running = false
  const deadline = Date.now() + 30_000
  while (ended.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const missing = ended.size
  ended.clear()
  await poller
  await telemetry.shutdown()
  return { p50: quantile(lags, 0.5), p95: quantile(lags, 0.95), max: Math.max(...lags), measured: lags.length, missing }
}
