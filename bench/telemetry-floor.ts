// The least any Postgres telemetry of this shape can cost: each finished span turned into
// its row and COPYed (the cheapest way in), in batches like the pipeline's — no pricing,
// no rollups, no logs table, no retries. What `on` costs beyond this is what the product
// adds; what this costs is what storing six spans per stream costs on this machine.
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { copyTransaction, spanCopyLine } from '../shared/telemetry/copy.ts'
import { SPAN_COLUMNS } from '../shared/telemetry/insert.ts'
import { createLogger } from '../shared/telemetry/logger.ts'
import type { Telemetry } from '../shared/telemetry/telemetry.ts'
import { toSpanRow } from '../shared/telemetry/to-span-row.ts'

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
  // As the product's Postgres path does: each span becomes its line as it ends.
  const processor: SpanProcessor = {
    onStart() {},
    onEnd(span: ReadableSpan) {
      rows.push({ line: spanCopyLine(toSpanRow(span)) })
      if (!writing) tick()
    },
    forceFlush: flush,
    shutdown: flush,
  }
  const provider = new BasicTracerProvider({ spanProcessors: [processor] })
  return {
    tracer: provider.getTracer('bench-floor'),
    logger: createLogger({ write: () => {}, level: 'error', consoleLevel: 'error' }),
    flush,
    shutdown: flush,
  }
}
