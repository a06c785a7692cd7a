// OTLP/HTTP export beside Postgres: a local receiver stands in for a collector.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTelemetry } from '../../shared/telemetry/telemetry.ts'
import { parseOtlpHeaders } from '../../shared/telemetry/otlp.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

interface Received { path: string; headers: IncomingHttpHeaders; body: any }
let receiver: Server
let endpoint: string
const received: Received[] = []
let db: TestDatabase

beforeAll(async () => {
  db = await freshDatabase()
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body: JSON.parse(body) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`
})
afterAll(async () => {
  await new Promise((r) => receiver.close(r))
  await db.drop()
})

it('exports spans over OTLP/HTTP JSON to <endpoint>/v1/traces, and to Postgres too, secrets redacted', async () => {
  const telemetry = createTelemetry({
    serviceName: 'otlp-test', sql: db.sql, otlpEndpoint: endpoint, otlpHeaders: 'x-api-team=streamscope,x-note=a%20b',
    writeLog: () => {},
  })
  const root = telemetry.tracer.startSpan('POST /functions/v1/chat', { attributes: { 'streamscope.function': 'chat', 'http.request.header.authorization': 'Bearer abc' } })
  const traceId = root.spanContext().traceId
  root.end()
  const other = telemetry.tracer.startSpan('chat sim-1')
  other.end()
  await telemetry.flush()
  await telemetry.shutdown()

  const spans = received.flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)))
  expect(received[0].path).toBe('/v1/traces')
  expect(received[0].headers).toMatchObject({ 'content-type': 'application/json', 'x-api-team': 'streamscope', 'x-note': 'a b' })
  const service = received[0].body.resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name')
  expect(service.value.stringValue).toBe('otlp-test')
  expect(spans.map((s: any) => s.name).sort()).toEqual(['POST /functions/v1/chat', 'chat sim-1'])
  const exported = spans.find((s: any) => s.name === 'POST /functions/v1/chat')
  expect(exported.traceId).toBe(traceId)
  const auth = exported.attributes.find((a: any) => a.key === 'http.request.header.authorization')
  expect(auth.value.stringValue).toBe('[REDACTED]')
  expect(JSON.stringify(received)).not.toContain('Bearer abc')

  const rows = await db.sql`select name from telemetry.spans where trace_id = ${traceId}`
  expect(rows.map((r) => r.name)).toEqual(['POST /functions/v1/chat'])
})

it('parses OTEL_EXPORTER_OTLP_HEADERS', () => {
  expect(parseOtlpHeaders('api-key=s%3Dcret, x=1,bad,=v')).toEqual({ 'api-key': 's=cret', x: '1' })
  expect(parseOtlpHeaders(undefined)).toEqual({})
})
