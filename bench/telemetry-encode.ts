// The encoder alone: the spans of real chats turned into what leaves the process — the product's
// row and COPY line (to-span-row.ts, copy.ts: the single span-row declaration) against the stock
// OTLP/JSON serializer of the same spans. CPU per span, no I/O on either side.
import type { Sql } from 'postgres'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { spanCopyLine } from '../shared/telemetry/copy.ts'
import { createTelemetry } from '../shared/telemetry/telemetry.ts'
import { toSpanRow } from '../shared/telemetry/to-span-row.ts'
import { createChatFixture } from '../tests/support/chat-fixture.ts'
import { benchEnv, timedStream } from './telemetry-overhead.ts'

/** The finished spans of `chats` real chats (the in-memory exporter beside the product's pipeline). */
async function chatSpans(sql: Sql, chats: number): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter()
  const telemetry = createTelemetry({ serviceName: 'bench', sql, writeLog: () => {}, exporters: [memory] })
  const fixture = createChatFixture(sql, benchEnv(20, 120), undefined, { telemetry, broadcast: null })
  const token = await fixture.token(crypto.randomUUID(), 3600)
  for (let i = 0; i < chats; i++) await timedStream(fixture, token)
  await telemetry.flush()
  const spans = [...memory.getFinishedSpans()] // shutdown empties the exporter
  await telemetry.shutdown()
  return spans
}

export interface EncodeResult { spans: number; rounds: { rowAndLineUs: number; otlpUs: number }[] }

/** µs of CPU per span, interleaved rounds of `repeat` passes over the spans each. */
export async function benchEncode(sql: Sql, rounds = 5, repeat = 3000): Promise<EncodeResult> {
  const spans = await chatSpans(sql, 20)
  const perSpan = (work: () => void) => {
    const c0 = process.cpuUsage()
    for (let i = 0; i < repeat; i++) work()
    const c = process.cpuUsage(c0)
    return (c.user + c.system) / repeat / spans.length
  }
  const ours = () => { for (const s of spans) spanCopyLine(toSpanRow(s)) }
  const stock = () => { JsonTraceSerializer.serializeRequest(spans) }
  perSpan(ours)
  perSpan(stock) // warm-up: both JIT-compiled before the first timed round
  const out: EncodeResult['rounds'] = []
  for (let r = 0; r < rounds; r++) out.push({ rowAndLineUs: perSpan(ours), otlpUs: perSpan(stock) })
  return { spans: spans.length, rounds: out }
}
