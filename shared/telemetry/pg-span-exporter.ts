import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import type { TelemetryPipeline } from './pipeline.ts'
import { toSpanRow } from './to-span-row.ts'

/**
 * Hands finished spans to the pipeline. Export always succeeds from the SDK's point
 * of view: the pipeline owns retries and the drop count, so a database outage never
 * backs up into the BatchSpanProcessor.
 */
export function createPostgresSpanExporter(pipeline: TelemetryPipeline): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      pipeline.pushSpans(spans.map(toSpanRow))
      done({ code: ExportResultCode.SUCCESS })
    },
    forceFlush: () => pipeline.flush(),
    shutdown: () => pipeline.shutdown(),
  }
}
