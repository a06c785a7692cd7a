// The least any Postgres telemetry of this shape can cost: each finished span turned into
// its row and COPYed (the cheapest way in), in batches like the pipeline's — no pricing,
// no rollups, no logs table, no retries. What `on` costs beyond this is what the product
// adds; what this costs is what storing six spans per stream costs on this machine.
import { ExportResultCode } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { Sql } from 'postgres'
import { copyTransaction, spanCopyLine } from '../shared/telemetry/copy.ts'
import { SPAN_COLUMNS } from '../shared/telemetry/insert.ts'
import { createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'
import { toSpanRow } from '../shared/telemetry/to-span-row.ts'

export function createFloorTelemetry(sql: Sql): Telemetry {
  let rows: { line: string }[] = []
  let writing: Promise<void> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const write = async () => {
    while (rows.length) {
      const batch = rows
      rows = []
      await copyTransaction(sql, async (copy, tx) => { await copy('telemetry.spans', SPAN_COLUMNS, batch); await tx`select 1` })
    }
  }
  const drain = () => (writing ??= write().finally(() => { writing = undefined }))
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done) {
      for (const s of spans) rows.push({ line: spanCopyLine(toSpanRow(s)) })
      timer ??= setTimeout(() => { timer = undefined; void drain() }, 250)
      done({ code: ExportResultCode.SUCCESS })
    },
    async forceFlush() {
      if (timer) { clearTimeout(timer); timer = undefined }
      await writing
      await drain()
    },
    shutdown: () => exporter.forceFlush!(),
  }
  return createTelemetry({ serviceName: 'bench-floor', exporters: [exporter], writeLog: () => {} })
}
