import type { SpanRow } from '$lib/types'

export interface WaterfallRow {
  span: SpanRow
  depth: number
  /** Start, relative to the trace's first span. */
  offset_ms: number
}

export interface Waterfall {
  rows: WaterfallRow[]
  start_ms: number
  total_ms: number
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
// ISO strings of one format sort as their instants do.
const byStart = (a: SpanRow, b: SpanRow) => compare(a.start_time, b.start_time) || compare(a.span_id, b.span_id)

/**
 * Spans in tree order (each parent before its children, siblings by start), with depth.
 * A span whose parent is not in the trace, e.g. the caller's span named by a traceparent,
 * is drawn as a root.
 */
export function toWaterfall(spans: SpanRow[]): Waterfall {
  const ids = new Set(spans.map((s) => s.span_id))
  const children = new Map<string, SpanRow[]>()
  const roots: SpanRow[] = []
  for (const span of [...spans].sort(byStart)) {
    const parent = span.parent_span_id
    if (parent && parent !== span.span_id && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span])
    else roots.push(span)
  }

  const start_ms = Math.min(...spans.map((s) => Date.parse(s.start_time)))
  const end_ms = Math.max(...spans.map((s) => Date.parse(s.start_time) + s.duration_ms))
  const rows: WaterfallRow[] = []
  const seen = new Set<string>()
  const visit = (span: SpanRow, depth: number) => {
    if (seen.has(span.span_id)) return
    seen.add(span.span_id)
    rows.push({ span, depth, offset_ms: Date.parse(span.start_time) - start_ms })
    for (const child of children.get(span.span_id) ?? []) visit(child, depth + 1)
  }
  roots.forEach((root) => visit(root, 0))
  // Spans only reachable through a parent cycle (malformed input) still get a row.
  spans.filter((s) => !seen.has(s.span_id)).sort(byStart).forEach((s) => visit(s, 0))

  return { rows, start_ms, total_ms: Math.max(end_ms - start_ms, 1) }
}

/** The request span when this is a function's trace (kind server, function set), else the first root. */
export function requestSpan(spans: SpanRow[], waterfall = toWaterfall(spans)): SpanRow {
  return spans.find((s) => s.kind === 'server' && s.function !== null) ?? waterfall.rows[0]!.span
}

/** Where a bar sits on the track, in percent of the trace's duration. */
export function barPosition(offsetMs: number, durationMs: number, totalMs: number): { left: number; width: number } {
  // A minimum width keeps sub-millisecond spans visible next to a long stream.
  const MIN = 0.4
  const left = Math.min(Math.max((100 * offsetMs) / totalMs, 0), 100 - MIN)
  const width = Math.min(Math.max((100 * durationMs) / totalMs, MIN), 100 - left)
  return { left, width }
}
