import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { expect, it } from 'vitest'
import { extractContext, injectHeaders } from './spans.ts'

it('continues the caller\'s trace and hands traceparent and tracestate on unchanged', () => {
  const memory = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t')
  const incoming = new Headers({
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
  })
  const span = tracer.startSpan('server', {}, extractContext(incoming))
  const out = injectHeaders(span)
  span.end()
  expect(out.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/)
  expect(out.traceparent.split('-')[2]).toBe(span.spanContext().spanId)
  expect(out.tracestate).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')
  const [finished] = memory.getFinishedSpans()
  expect(finished.parentSpanContext?.spanId).toBe('b7ad6b7169203331')
  expect(trace.getSpanContext(extractContext(new Headers()))).toBeUndefined()
})

it('ignores a malformed traceparent (new trace, no tracestate)', () => {
  const ctx = extractContext(new Headers({ traceparent: '00-zz-1-01', tracestate: 'a=b' }))
  expect(trace.getSpanContext(ctx)).toBeUndefined()
})
