// Two traces for the compare page and GET /api/compare: which two (?a=&b=), and both read as
// the trace page reads one. Relative imports only (bench/dashboard.ts may call it).
import type { Parsed } from '../range.ts'
import { isTraceId, parseTraceInput } from '../trace-id.ts'
import type { Trace } from '../types.ts'
import type { Db } from './rollups.ts'
import { getTrace } from './traces.ts'

export const SIDES = ['a', 'b'] as const
export type Side = (typeof SIDES)[number]
export type Pair<T> = Record<Side, T>

/**
 * The two trace ids of ?a=&b=. Strict for the API (stored form only); `lenient` (the page) also
 * takes what the lookup box takes, a traceparent or another case, and gives the stored form.
 */
export function readPair(params: URLSearchParams, lenient = false): Parsed<Pair<string>> {
  const ids: Partial<Pair<string>> = {}
  for (const side of SIDES) {
    const raw = params.get(side)?.trim() ?? ''
    if (!raw) return { ok: false, message: `${side} is missing: give two trace ids, ?a=<trace id>&b=<trace id>` }
    const id = lenient ? parseTraceInput(raw) : isTraceId(raw) ? raw : null
    if (!id) return { ok: false, message: `${side} must be a trace id (32 lowercase hex digits), got "${raw.slice(0, 100)}"` }
    ids[side] = id
  }
  return { ok: true, value: ids as Pair<string> }
}

/** Both traces; a side is null when no span of it is stored. */
export async function readPairOfTraces(sql: Db, ids: Pair<string>, now = new Date()): Promise<Pair<Trace | null>> {
  const [a, b] = await Promise.all(SIDES.map((side) => getTrace(sql, ids[side], now)))
  return { a: a ?? null, b: b ?? null }
}

/** The sides without a stored trace, for a 404 that says which. */
export function missingSides(traces: Pair<Trace | null>): Side[] {
  return SIDES.filter((side) => traces[side] === null)
}
