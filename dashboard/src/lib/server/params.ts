import { error } from '@sveltejs/kit'
import { parseFilters, type Filters } from '$lib/filters'
import { parseRange, type Range, type RangeOptions } from '$lib/range'
import { EXPLORER_RANGE } from './explorer-query'

export const OVERVIEW_RANGE: RangeOptions = { fallback: '1h', maxDays: 90, maxPoints: 200 }
export const SPEND_RANGE: RangeOptions = { fallback: '7d', maxDays: 31, maxPoints: 60, minStepMs: 15 * 60_000 }
/** A user's page: the explorer's bounds, a week by default. */
export const USER_RANGE: RangeOptions = { ...EXPLORER_RANGE, fallback: '7d' }

export type Query = { ok: true; range: Range; filters: Filters } | { ok: false; message: string }

/** The range and filters of a URL, or why they are not acceptable. */
export function readQuery(url: URL, options: RangeOptions, now = new Date()): Query {
  const range = parseRange(url.searchParams, now, options)
  if (!range.ok) return range
  const filters = parseFilters(url.searchParams)
  if (!filters.ok) return filters
  return { ok: true, range: range.value, filters: filters.value }
}

/** For page loads: a bad parameter is a 400 page that says which and why. */
export function pageQuery(url: URL, options: RangeOptions): { range: Range; filters: Filters } {
  const q = readQuery(url, options)
  if (!q.ok) error(400, { message: q.message, code: 'invalid_request' })
  return q
}
