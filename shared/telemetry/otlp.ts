import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { redactAttributes, redactString } from './redact.ts'

export interface OtlpOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string
  /** OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values URL-encoded) or a record. */
  headers?: string | Record<string, string>
  timeoutMillis?: number
}

/** Parses the OTEL_EXPORTER_OTLP_HEADERS format of the OTLP exporter spec. */
export function parseOtlpHeaders(value: string | Record<string, string> | undefined): Record<string, string> {
  if (!value) return {}
  if (typeof value !== 'string') return value
  const out: Record<string, string> = {}
  for (const pair of value.split(',')) {
    const i = pair.indexOf('=')
    if (i <= 0) continue
    out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim())
  }
  return out
}

export function otlpTracesUrl(endpoint: string): string {
  return endpoint.replace(/\/+$/, '') + '/v1/traces'
}

/**
 * The span as the OTLP exporter sees it: the same object (prototype), with
 * secrets scrubbed from attributes, events and status exactly as for Postgres.
 */
function toRedactedSpan(span: ReadableSpan): ReadableSpan {
  const attributes = redactAttributes(span.attributes)
  return Object.create(span, {
    attributes: { value: attributes, enumerable: true },
    events: { value: span.events.map((e) => (e.attributes ? { ...e, attributes: redactAttributes(e.attributes) } : e)), enumerable: true },
    status: { value: span.status.message ? { ...span.status, message: redactString(span.status.message) } : span.status, enumerable: true },
  }) as ReadableSpan
}

/**
 * The standard OTLP/HTTP (JSON) exporter, loaded only when an endpoint is
 * configured: the module reads process.env and opens sockets, which a process
 * without OTLP should not pay for.
 */
export function createOtlpSpanExporter(options: OtlpOptions): SpanExporter {
  const ready: Promise<SpanExporter> = import('@opentelemetry/exporter-trace-otlp-http').then(({ OTLPTraceExporter }) =>
    new OTLPTraceExporter({
      url: otlpTracesUrl(options.endpoint),
      headers: parseOtlpHeaders(options.headers),
      timeoutMillis: options.timeoutMillis ?? 10_000,
    }))
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      ready.then(
        (exporter) => exporter.export(spans.map(toRedactedSpan), done),
        (error) => done({ code: ExportResultCode.FAILED, error }),
      )
    },
    forceFlush: () => ready.then((e) => e.forceFlush?.(), () => {}),
    shutdown: () => ready.then((e) => e.shutdown(), () => {}),
  }
}
