import { error } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { USER_RANGE } from '$lib/server/params'
import { getUserActivity } from '$lib/server/users'
import { parseRange } from '$lib/range'
import { isUuid } from '$lib/trace-id'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ params, url }) => {
  const userId = params.user_id
  if (!isUuid(userId)) error(400, { message: `"${userId}" is not a user id: expected a UUID.`, code: 'invalid_request' })
  const range = parseRange(url.searchParams, new Date(), USER_RANGE)
  if (!range.ok) error(400, { message: range.message, code: 'invalid_request' })
  const activity = await readTelemetry((sql) => getUserActivity(sql, userId, range.value))
  return { activity, range: { preset: range.value.preset, from: activity.from, to: activity.to } }
}
