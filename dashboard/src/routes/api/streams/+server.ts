import { apiError } from '$lib/server/api'
import { listStreams } from '$lib/server/explorer'
import { readPaging } from '$lib/server/paging'
import { EXPLORER_RANGE, readQuery } from '$lib/server/params'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/**
 * GET /api/streams: the explorer as JSON. ?range=1h (or custom&from&to), function, model,
 * status, user, sort=time|ttfb|duration|tokens|cost, dir=desc|asc, limit (1..500, 50),
 * after/before=<cursor from next/prev>.
 */
export const GET: RequestHandler = async ({ url }) => {
  const q = readQuery(url, EXPLORER_RANGE)
  if (!q.ok) return apiError('invalid_request', q.message)
  const paging = readPaging(url.searchParams)
  if (!paging.ok) return apiError('invalid_request', paging.message)
  return jsonRead(async (sql) => {
    const page = await listStreams(sql, { window: q.range, filters: q.filters, ...paging.value })
    return { from: q.range.from.toISOString(), to: q.range.to.toISOString(), streams: page.rows, next: page.next, prev: page.prev }
  })
}
