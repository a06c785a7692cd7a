// What a user would otherwise pick: the same spans through the stock OpenTelemetry path, the
// SDK's BatchSpanProcessor and the OTLP/HTTP exporter, sending to a collector stand-in. The sink
// runs in a process of its own, so the CPU measured in the benchmark's process is the sending
// side only, as the function's would be; it counts the spans each request carries and answers 200.
// The processor's queue is raised above its default of 2048: at these rates the default drops
// spans, and a path that drops work would look cheaper than one that keeps it.
import { spawn, type ChildProcess } from 'node:child_process'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createLogger } from '../shared/telemetry/logger.ts'
import type { Telemetry } from '../shared/telemetry/telemetry.ts'

const SINK = `
const http = require('node:http')
let spans = 0
const server = http.createServer((req, res) => {
  if (req.method === 'GET') { res.end(String(spans)); return }
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    for (const r of JSON.parse(Buffer.concat(chunks)).resourceSpans ?? []) for (const s of r.scopeSpans ?? []) spans += (s.spans ?? []).length
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{}')
  })
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))`

export interface OtlpSink {
  url: string
  /** Spans the sink has received so far. */
  received(): Promise<number>
  stop(): void
}

/** An OTLP/HTTP receiver in a child process: `url` is its traces endpoint. */
export async function startOtlpSink(): Promise<OtlpSink> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited with ${code}`)))
  })
  const url = `http://127.0.0.1:${port}/v1/traces`
  return { url, received: async () => Number(await (await fetch(url)).text()), stop: () => void child.kill() }
}

/** The stock SDK path: BatchSpanProcessor (its defaults but the queue) + OTLPTraceExporter; no logs stored. */
export function createOtlpTelemetry(url: string): Telemetry & { ended(): number } {
  let ended = 0
  const counter: SpanProcessor = { onStart() {}, onEnd() { ended++ }, forceFlush: async () => {}, shutdown: async () => {} }
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    spanProcessors: [counter, new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxQueueSize: 1 << 20 })],
  })
  return {
    ended: () => ended,
    tracer: provider.getTracer('bench-otlp'),
    logger: createLogger({ write: () => {}, level: 'error', consoleLevel: 'error' }),
    flush: () => provider.forceFlush(),
    unload: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}
