// `npm run seed:telemetry -- --spans 200000 --days 30`: synthetic telemetry through the real
// write path (createTelemetryPipeline → the INSERT of insert.ts), so spans, prices and rollups are
// maintained exactly as for live traffic. Targets DATABASE_URL, or the embedded PostgreSQL in
// .data/postgres that `npm start` uses (joined while the server runs, started otherwise).
import type { Sql } from 'postgres'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { migrate } from '../shared/db/migrate.ts'
import { createTelemetryPipeline } from '../shared/telemetry/pipeline.ts'
import { createSynth } from './telemetry-synth.ts'

export interface SeedOptions {
  spans: number
  days: number
  seed?: number
  end?: Date
  /** Writers in parallel, each with its own pipeline (and connection). */
  concurrency?: number
  onProgress?: (p: { spans: number; logs: number; requests: number }) => void
}

const CHUNK_REQUESTS = 2000

/** Writes about `spans` spans (whole requests) over the `days` before `end`. */
export async function seedTelemetry(sql: Sql, o: SeedOptions): Promise<{ spans: number; logs: number; requests: number }> {
  const end = o.end ?? new Date()
  const synth = createSynth({ end, days: o.days, seed: o.seed ?? 1 })
  // The day partitions up front: writers creating the same day at once would collide (and retry).
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  await sql`select telemetry.ensure_partitions(${day(end.getTime() - o.days * 86_400_000)}::date, ${day(end.getTime())}::date)`
  const times = synth.startTimes(synth.requestsFor(o.spans))
  const k = Math.max(1, Math.min(o.concurrency ?? 2, times.length))
  const totals = { spans: 0, logs: 0, requests: 0 }
  const errors: unknown[] = []

  // Contiguous slices of time per writer: concurrent statements rarely touch the same rollup rows.
  const writers = Array.from({ length: k }, async (_, w) => {
    const slice = times.slice(Math.floor((w * times.length) / k), Math.floor(((w + 1) * times.length) / k))
    const pipeline = createTelemetryPipeline(sql, { maxQueue: 1_000_000, batchSize: 4000, flushIntervalMs: 50, onError: (e) => errors.push(e) })
    for (let i = 0; i < slice.length; i += CHUNK_REQUESTS) {
      let spans = 0
      let logs = 0
      for (const t of slice.slice(i, i + CHUNK_REQUESTS)) {
        const r = synth.request(t)
        pipeline.pushSpans(r.spans)
        pipeline.pushLogs(r.logs)
        spans += r.spans.length
        logs += r.logs.length
      }
      await pipeline.flush()
      // A failed batch stays queued and is retried (as for live traffic); give it a few tries.
      for (let attempt = 1; pipeline.stats().queued > 0 && attempt <= 10; attempt++) {
        await new Promise((r) => setTimeout(r, 100 * attempt))
        await pipeline.flush()
      }
      const stats = pipeline.stats()
      if (stats.queued > 0 || stats.dropped > 0) {
        throw new Error(`the pipeline did not write everything (queued ${stats.queued}, dropped ${stats.dropped}): ${String(errors.at(-1))}`)
      }
      totals.spans += spans
      totals.logs += logs
      totals.requests += Math.min(CHUNK_REQUESTS, slice.length - i)
      o.onProgress?.({ ...totals })
    }
    await pipeline.shutdown()
  })
  await Promise.all(writers)
  return totals
}

async function main() {
  const { values } = parseArgs({
    options: {
      spans: { type: 'string', default: '200000' },
      days: { type: 'string', default: '7' },
      seed: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '2' },
      'database-url': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log('npm run seed:telemetry -- [--spans 200000] [--days 7] [--seed 1] [--concurrency 2] [--database-url postgres://…]')
    return
  }
  const spans = Number(values.spans)
  const days = Number(values.days)
  if (!Number.isInteger(spans) || spans < 1) throw new Error('--spans must be a positive integer')
  if (!Number.isFinite(days) || days <= 0 || days > 400) throw new Error('--days must be in (0, 400]')

  const { LOCAL_DB_DIR, openDatabase } = await import('../server/database.ts')
  const { readMigrations } = await import('../server/migrations.ts')
  const db = await openDatabase(values['database-url'] ?? process.env.DATABASE_URL, process.env.LOCAL_DB_DIR ?? LOCAL_DB_DIR)
  try {
    await migrate(db.sql, await readMigrations())
    console.error(`seeding ~${spans.toLocaleString('en-US')} spans over ${days} days into ${db.kind === 'embedded' ? `embedded PostgreSQL (${process.env.LOCAL_DB_DIR ?? LOCAL_DB_DIR})` : 'DATABASE_URL'}…`)
    const t0 = performance.now()
    let lastPrint = 0
    const result = await seedTelemetry(db.sql, {
      spans, days, seed: Number(values.seed), concurrency: Number(values.concurrency),
      onProgress: (p) => {
        const now = performance.now()
        if (now - lastPrint < 2000 && p.spans < spans) return
        lastPrint = now
        const rate = p.spans / ((now - t0) / 1000)
        const eta = Math.max(0, (spans - p.spans) / rate)
        console.error(`  ${p.spans.toLocaleString('en-US')} spans (${Math.round((100 * p.spans) / spans)}%) · ${Math.round(rate).toLocaleString('en-US')} spans/s · ETA ${Math.round(eta)} s`)
      },
    })
    const s = (performance.now() - t0) / 1000
    console.error(`done: ${result.spans.toLocaleString('en-US')} spans, ${result.logs.toLocaleString('en-US')} logs, ${result.requests.toLocaleString('en-US')} requests in ${s.toFixed(1)} s (${Math.round(result.spans / s).toLocaleString('en-US')} spans/s)`)
  } finally {
    await db.close()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  })
}
