import type { Parsed } from '../range.ts'
import { SORTS, decodeCursor, type Cursor, type Direction, type Sort } from './explorer.ts'

export const PAGE_SIZES = [25, 50, 100] as const

export interface Paging {
  sort: Sort
  dir: Direction
  limit: number
  after?: Cursor
  before?: Cursor
}

/** ?sort=ttfb&dir=asc&limit=50&after=<cursor> */
export function readPaging(params: URLSearchParams): Parsed<Paging> {
  const sort = params.get('sort') || 'time'
  if (!(SORTS as readonly string[]).includes(sort)) return { ok: false, message: `sort must be one of ${SORTS.join(', ')}, got "${sort}"` }
  const dir = params.get('dir') || 'desc'
  if (dir !== 'asc' && dir !== 'desc') return { ok: false, message: `dir must be asc or desc, got "${dir}"` }
  const rawLimit = params.get('limit') || '50'
  const limit = Number(rawLimit)
  if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > 500) return { ok: false, message: 'limit must be an integer in [1, 500]' }
  const value: Paging = { sort: sort as Sort, dir, limit }
  for (const key of ['after', 'before'] as const) {
    const raw = params.get(key)
    if (!raw) continue
    const cursor = decodeCursor(raw)
    if (!cursor) return { ok: false, message: `${key} is not a cursor from this explorer (follow the Newer/Older links)` }
    value[key] = cursor
  }
  if (value.after && value.before) return { ok: false, message: 'give after or before, not both' }
  return { ok: true, value }
}
