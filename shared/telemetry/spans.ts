import {
  context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type TimeInput, type Tracer,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { ATTR } from './attributes.ts'

// Context is passed explicitly (no context manager): the same code then runs on
// Node, Deno and in tests without relying on AsyncLocalStorage.
const propagator = new W3CTraceContextPropagator()

/** The caller's trace context from `traceparent`/`tracestate`, or the root context. */
export function extractContext(headers: Headers): Context {
  return propagator.extract(ROOT_CONTEXT, headers, {
    get: (carrier, key) => carrier.get(key) ?? undefined,
    keys: (carrier) => [...carrier.keys()],
  })
}

/** `traceparent` (and `tracestate`) for a span, to hand to the next hop. */
export function injectHeaders(span: Span): Record<string, string> {
  const out: Record<string, string> = {}
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, { set: (c, k, v) => { c[k] = v } })
  return out
}

export function startChild(tracer: Tracer, parent: Span, name: string, attributes: Attributes = {}, kind = SpanKind.INTERNAL): Span {
  return tracer.startSpan(name, { kind, attributes }, trace.setSpan(context.active(), parent))
}

export function recordError(span: Span, err: unknown, type: string) {
  span.recordException(err instanceof Error ? err : String(err))
  span.setAttribute(ATTR.errorType, type)
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
}

/** Runs `fn` inside a child span that ends when it settles and carries its error. */
export async function inSpan<T>(tracer: Tracer, parent: Span, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = startChild(tracer, parent, name, attributes)
  try {
    return await fn(span)
  } catch (err) {
    recordError(span, err, (err as { code?: string }).code ?? (err as Error)?.name ?? 'Error')
    throw err
  } finally {
    span.end()
  }
}

/**
 * A child span for work that ran before its parent existed (the request span is made once
 * the caller is known): it gets the times the work really took, and its error if it failed.
 */
export function recordSpan(
  tracer: Tracer, parent: Span, name: string, attributes: Attributes,
  startTime: TimeInput, endTime: TimeInput, err?: unknown,
): void {
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, startTime }, trace.setSpan(context.active(), parent))
  if (err !== undefined) recordError(span, err, (err as { code?: string }).code ?? (err as Error)?.name ?? 'Error')
  span.end(endTime)
}
