// What the streams explorer shows for a URL's parameters: read the same way by the page, its
// JSON API and a saved view. Relative imports only: tests import this module outside SvelteKit.
import { parseStreamFilters, type StreamFilters } from '../filters.ts'
import { parseRange, type Parsed, type Range, type RangeOptions } from '../range.ts'
import { readPaging, type Paging } from './paging.ts'

export const EXPLORER_RANGE: RangeOptions = { fallback: '1h', maxDays: 31 }

export interface ExplorerQuery {
  range: Range
  filters: StreamFilters
  paging: Paging
}

/** The range, filters and page of these parameters, or why the explorer would refuse them. */
export function readExplorerQuery(params: URLSearchParams, now = new Date()): Parsed<ExplorerQuery> {
  const range = parseRange(params, now, EXPLORER_RANGE)
  if (!range.ok) return range
  const filters = parseStreamFilters(params)
  if (!filters.ok) return filters
  const paging = readPaging(params)
  if (!paging.ok) return paging
  return { ok: true, value: { range: range.value, filters: filters.value, paging: paging.value } }
}
