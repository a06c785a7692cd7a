// Ingestion: the pipeline (COPY, the priced and rolled-up spans through a stage and
// one INSERT) against a raw COPY of the same rows into the same table, same database.
import { Readable } from 'node:stream'
import { pipeline as pipe } from 'node:stream/promises'
import type { Sql } from 'postgres'
import { SPAN_COLUMNS } from '../shared/telemetry/span-columns.ts'
import { createTelemetryPipeline } from '../shared/telemetry/pipeline.ts'
import type { SpanRow } from '../shared/telemetry/rows.ts'
import type { CpuMeter } from './telemetry-cpu.ts'
import { chatTraceRows } from './telemetry-rows.ts'

// The product's column list; the line below is the baseline's own, plain serializer.
const COLUMNS = SPAN_COLUMNS

const copyField = (v: unknown) => v === null || v === undefined ? '\\N'
  : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')

function toCopyLine(r: SpanRow): string {
  return COLUMNS.map((c) => {
    const v = r[c]
    if (v instanceof Date) return v.toISOString()
    if (c === 'attributes' || c === 'events') return copyField(v === null ? null : JSON.stringify(v))
    if (c === 'frame_offsets_ms') return copyField(v === null ? null : `{${(v as number[]).join(',')}}`)
    return copyField(v)
  }).join('\t') + '\n'
}

async function copyRows(sql: Sql, rows: SpanRow[]) {
  const writable = await sql.unsafe(`copy telemetry.spans (${COLUMNS.join(', ')}) from stdin`).writable()
  await pipe(Readable.from((function* () {
    for (let i = 0; i < rows.length; i += 1000) yield rows.slice(i, i + 1000).map(toCopyLine).join('')
  })()), writable)
}

export function makeRows(count: number): SpanRow[] {
  const rows: SpanRow[] = []
  const t0 = Date.now() - 30 * 60_000
  for (let i = 0; rows.length < count; i++) rows.push(...chatTraceRows(t0 + i * 10, i))
  return rows.slice(0, count)
}

/** CPU per span: both processes, and Postgres's share alone (its backends, WAL writer, checkpointer). */
export interface IngestResult { name: string; spansPerSecond: number; cpuUsPerSpan: number; pgUsPerSpan: number }

export async function benchIngest(sql: Sql, rows: SpanRow[], rounds: number, concurrency: number, cpu: CpuMeter): Promise<IngestResult[]> {
  const results: IngestResult[] = []
  // Every table either side writes: rollups left from an earlier round would make only the
  // pipeline's upserts slower, round after round.
  const reset = () => sql`truncate telemetry.spans, telemetry.rollup_minute, telemetry.rollup_hour, telemetry.rollup_day_session`
  const time = async (name: string, run: () => Promise<void>) => {
    await reset()
    await sql`checkpoint`
    const c0 = await cpu.read()
    const t = performance.now()
    await run()
    const wall = performance.now() - t
    const c1 = await cpu.read()
    const pgMs = c1.pgMs - c0.pgMs
    const perSpan = (ms: number) => (ms * 1000) / rows.length
    results.push({ name, spansPerSecond: rows.length / (wall / 1000), cpuUsPerSpan: perSpan(c1.nodeMs - c0.nodeMs + pgMs), pgUsPerSpan: perSpan(pgMs) })
  }
  for (let round = 0; round < rounds; round++) {
    await time('copy', () => copyRows(sql, rows))
    await time('pipeline', async () => {
      // Everything arrives at once: the queue bound is raised so nothing is dropped.
      const p = createTelemetryPipeline(sql, { maxQueue: rows.length, concurrency, onError: (e) => { throw e } })
      // As BatchSpanProcessor hands them over: 512 at a time, from its own timer callbacks,
      // so the pipeline's writes run between the hand-overs.
      for (let i = 0; i < rows.length; i += 512) {
        p.pushSpans(rows.slice(i, i + 512))
        await new Promise((resolve) => setImmediate(resolve))
      }
      await p.flush()
      const s = p.stats()
      if (s.written !== rows.length) throw new Error(`pipeline wrote ${s.written} of ${rows.length}: ${JSON.stringify(s)}`)
    })
  }
  const [{ n }] = await sql`select sum(requests)::int as n from telemetry.rollup_minute`
  if (n !== rows.filter((r) => r.kind === 'server').length) throw new Error(`rollups count ${n} requests`)
  return results
}
