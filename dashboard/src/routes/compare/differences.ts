// What the compare page's table and GET /api/compare say about two streams: one fact per line,
// each read from the trace's request span, its frame offsets and its stream's measures (the
// trace's `streams`: inter-token latency, tokens/s and the client's TTFB, as traces.ts reads them).
import { toArrival, type Arrival } from '$lib/arrival'
import { streamOutcome } from '$lib/outcome'
import type { Difference, SpanRow, StreamStats, Trace } from '$lib/types'
import { requestSpan } from '../traces/[trace_id]/waterfall'

export interface Stream {
  main: SpanRow
  arrival: Arrival
  /** The request span's stream measures; undefined for a request that streamed nothing. */
  stats: StreamStats | undefined
  spans: number
}

interface Fact {
  key: string
  label: string
  kind: Difference['kind']
  of: (s: Stream) => string | number | null
}

const FACTS: Fact[] = [
  { key: 'status', label: 'Status', kind: 'text', of: (s) => streamOutcome(s.main).label },
  { key: 'end_reason', label: 'End reason', kind: 'text', of: (s) => s.main.end_reason },
  { key: 'model', label: 'Model', kind: 'text', of: (s) => s.main.model },
  { key: 'ttfb_ms', label: 'TTFB', kind: 'ms', of: (s) => s.main.ttfb_ms },
  { key: 'duration_ms', label: 'Duration', kind: 'ms', of: (s) => s.main.duration_ms },
  { key: 'client_ttfb_ms', label: 'Client TTFB', kind: 'ms', of: (s) => s.stats?.client_ttfb_ms ?? null },
  { key: 'itl_p50_ms', label: 'ITL median', kind: 'ms', of: (s) => s.stats?.itl_p50 ?? null },
  { key: 'itl_p95_ms', label: 'ITL p95', kind: 'ms', of: (s) => s.stats?.itl_p95 ?? null },
  { key: 'tokens_per_s', label: 'Output tokens/s', kind: 'count', of: (s) => s.stats?.tokens_per_s ?? null },
  { key: 'max_gap_ms', label: 'Longest gap', kind: 'ms', of: (s) => s.arrival.max_gap_ms },
  { key: 'frames', label: 'Frames', kind: 'count', of: (s) => s.main.frames },
  { key: 'stalls', label: 'Stalls', kind: 'count', of: (s) => s.main.stalls },
  { key: 'input_tokens', label: 'Input tokens', kind: 'count', of: (s) => s.main.input_tokens },
  { key: 'output_tokens', label: 'Output tokens', kind: 'count', of: (s) => s.main.output_tokens },
  { key: 'cost_usd', label: 'Cost', kind: 'usd', of: (s) => s.main.cost_usd },
  { key: 'spans', label: 'Spans', kind: 'count', of: (s) => s.spans },
]

/** A trace's request span and its token arrival: what the compare page draws of each side. */
export function toStream(trace: Trace): Stream {
  const main = requestSpan(trace.spans)
  const stats = trace.streams.find((x) => x.span_id === main.span_id)
  return { main, arrival: toArrival(main.frame_offsets_ms), stats, spans: trace.spans.length }
}

/** Each fact of a and of b, with b − a where both are numbers. */
export function differences(a: Trace, b: Trace): Difference[] {
  const [sa, sb] = [toStream(a), toStream(b)]
  return FACTS.map(({ key, label, kind, of }) => {
    const [va, vb] = [of(sa), of(sb)]
    const delta = typeof va === 'number' && typeof vb === 'number' ? vb - va : null
    return { key, label, kind, a: va, b: vb, delta }
  })
}
