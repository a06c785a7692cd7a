import { apiError } from '$lib/server/api'
import { listStreams } from '$lib/server/explorer'
import { readExplorerQuery } from '$lib/server/explorer-query'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/**
 * GET /api/streams: the explorer as JSON. ?range=1h (or custom&from&to), the filters of
 * $lib/filters (function, model, status, user, end_reason, error_code, http_status,
 * min_ttfb_ms, min_duration_ms, session, q, stalled=1, resumed=1), sort=time|ttfb|duration|tokens|cost,
 * dir=desc|asc, limit (1..500, 50), after/before=<cursor from next/prev>.
 */
export const GET: RequestHandler = async ({ url }) => {
  const q = readExplorerQuery(url.searchParams)
  if (!q.ok) return apiError('invalid_request', q.message)
  const { range, filters, paging } = q.value
  return jsonRead(async (sql) => {
    const page = await listStreams(sql, { window: range, filters, ...paging })
    return { from: range.from.toISOString(), to: range.to.toISOString(), streams: page.rows, next: page.next, prev: page.prev }
  })
}
