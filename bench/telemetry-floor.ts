// The least any Postgres telemetry of this shape can cost: each finished span turned into
// its row and COPYed (the cheapest way in), in batches like the pipeline's — no pricing,
// no rollups, no logs table, no retries. What `on` costs beyond this is what the product
// adds; what this costs is what storing six spans per stream costs on this machine.
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { copyTransaction, spanCopyLine } from '../shared/telemetry/copy.ts'
import { SPAN_COLUMNS } from '../shared/telemetry/span-columns.ts'
import { createLogger } from '../shared/telemetry/logger.ts'
import { createPostgresSpanProcessor } from '../shared/telemetry/pg-span-processor.ts'
import type { TelemetryPipeline } from '../shared/telemetry/pipeline.ts'
import type { Telemetry } from '../shared/telemetry/telemetry.ts'

export function createFloorTelemetry(sql: Sql): Telemetry {
  let rows: { line: string }[] = []
  let writing: Promise<void> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  // One batch per drain, as the pipeline does: what arrives meanwhile waits for the next tick.
  const write = async () => {
    const batch = rows
    rows = []
    if (batch.length) await copyTransaction(sql, async (copy, tx) => { await copy('telemetry.spans', SPAN_COLUMNS, batch); await tx`select 1` })
  }
  const drain = () => (writing ??= write().finally(() => { writing = undefined; if (rows.length) tick() }))
  const tick = () => { timer ??= setTimeout(() => { timer = undefined; void drain() }, 250) }
  const flush = async () => {
    if (timer) { clearTimeout(timer); timer = undefined }
    await writing
    await drain()
  }
  // The product's span processor in front (spans become rows as the product's do), a
  // pipeline that only COPYs behind it.
  const pipeline: TelemetryPipeline = {
    pushSpans(spans) {
      for (const r of spans) rows.push({ line: spanCopyLine(r) })
      if (!writing) tick()
    },
    pushLogs() {},
    opened() {},
    closed() {},
    idle: flush,
    flush,
    shutdown: flush,
    stats: () => ({ queued: rows.length, written: 0, dropped: 0, rejected: 0, failures: 0, batches: 0, fallbacks: 0 }),
  }
  const provider = new BasicTracerProvider({ spanProcessors: [createPostgresSpanProcessor(pipeline, (err) => console.error('floor: span not stored', err))] })
  return {
    tracer: provider.getTracer('bench-floor'),
    logger: createLogger({ write: () => {}, level: 'error', consoleLevel: 'error' }),
    flush: async () => { await provider.forceFlush(); await flush() },
    unload: flush,
    shutdown: () => provider.shutdown(),
  }
}
