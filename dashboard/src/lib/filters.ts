// Relative, not $shared: server code outside SvelteKit (tests, bench) imports this module too.
import { textProblem } from '../../../shared/well-formed.ts'
import type { Parsed } from './range.ts'

/** How a request ended, as telemetry.request_status() and the rollups name it. */
export const STATUSES = ['ok', 'error', 'client_error', 'aborted'] as const
export type RequestStatus = (typeof STATUSES)[number]

export const STATUS_LABELS: Record<RequestStatus, string> = {
  ok: 'ok', error: 'error (5xx)', client_error: 'rejected (4xx)', aborted: 'client abort',
}

export const FUNCTIONS = ['chat', 'embed'] as const

/** Filters that apply to every chart and table of a page; absent = all. */
export interface Filters {
  function?: string
  model?: string
  status?: RequestStatus
  user?: string
}

export const FILTER_KEYS = ['function', 'model', 'status', 'user'] as const

const MAX_VALUE = 200

export function parseFilters(params: URLSearchParams): Parsed<Filters> {
  const filters: Filters = {}
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim()
    if (!value) continue
    if (value.length > MAX_VALUE) return { ok: false, message: `${key} is longer than ${MAX_VALUE} characters` }
    // Compared in SQL: a NUL would fail the query, not just match nothing.
    const problem = textProblem(value)
    if (problem) return { ok: false, message: `${key} ${problem}` }
    if (key === 'function' && !(FUNCTIONS as readonly string[]).includes(value)) {
      return { ok: false, message: `function must be one of ${FUNCTIONS.join(', ')}, got "${value}"` }
    }
    if (key === 'status') {
      if (!(STATUSES as readonly string[]).includes(value)) {
        return { ok: false, message: `status must be one of ${STATUSES.join(', ')}, got "${value}"` }
      }
      filters.status = value as RequestStatus
    } else {
      filters[key] = value
    }
  }
  return { ok: true, value: filters }
}

export function filterParams(filters: Filters): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of FILTER_KEYS) if (filters[key]) out[key] = filters[key]!
  return out
}

export function hasFilters(filters: Filters): boolean {
  return FILTER_KEYS.some((key) => filters[key])
}

/**
 * `path?…` with the given parameters set (or removed when null/''), keeping the others;
 * parameters come out sorted so one view has one URL.
 */
export function hrefWith(url: URL, changes: Record<string, string | null | undefined>, path = url.pathname): string {
  const params = new URLSearchParams(url.search)
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(key)
    else params.set(key, value)
  }
  params.sort()
  const query = params.toString()
  return query ? `${path}?${query}` : path
}
