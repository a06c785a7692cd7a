import { apiError } from '$lib/server/api'
import { USER_RANGE } from '$lib/server/params'
import { jsonRead } from '$lib/server/respond'
import { getUserActivity } from '$lib/server/users'
import { parseRange } from '$lib/range'
import { isUuid } from '$lib/trace-id'
import type { RequestHandler } from './$types'

/**
 * GET /api/users/<user_id>?range=7d (or custom&from&to): the user's totals over the window and
 * their sessions, most recently active first. A window without requests is an empty answer.
 */
export const GET: RequestHandler = async ({ params, url }) => {
  const userId = params.user_id
  if (!isUuid(userId)) return apiError('invalid_request', 'user_id must be a UUID', { user_id: userId })
  const range = parseRange(url.searchParams, new Date(), USER_RANGE)
  if (!range.ok) return apiError('invalid_request', range.message)
  return jsonRead((sql) => getUserActivity(sql, userId, range.value))
}
