// What a user would otherwise pick: the same spans through the stock OpenTelemetry path, the
// SDK's BatchSpanProcessor and the OTLP/HTTP exporter, sending to a collector stand-in. The sink
// runs in a process of its own, so the CPU measured in the benchmark's process is the sending
// side only, as the function's would be; it reads each request's body and answers 200.
import { spawn, type ChildProcess } from 'node:child_process'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createLogger } from '../shared/telemetry/logger.ts'
import type { Telemetry } from '../shared/telemetry/telemetry.ts'

const SINK = `
const http = require('node:http')
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}') }) })
server.listen(0, '127.0.0.1', () => console.log(server.address().port))`

export interface OtlpSink { url: string; stop(): void }

/** An OTLP/HTTP receiver in a child process: `url` is its traces endpoint. */
export async function startOtlpSink(): Promise<OtlpSink> {
  const child: ChildProcess = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())))
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}/v1/traces`, stop: () => void child.kill() }
}

/** The stock SDK path: BatchSpanProcessor (its defaults) + OTLPTraceExporter; no logs stored. */
export function createOtlpTelemetry(url: string): Telemetry {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  })
  return {
    tracer: provider.getTracer('bench-otlp'),
    logger: createLogger({ write: () => {}, level: 'error', consoleLevel: 'error' }),
    flush: () => provider.forceFlush(),
    unload: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  }
}
