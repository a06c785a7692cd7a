import { apiError } from '$lib/server/api'
import { readTelemetry } from '$lib/server/db'
import { SPEND_RANGE, readQuery } from '$lib/server/params'
import { jsonOf } from '$lib/server/respond'
import { spend } from '$lib/server/spend'
import type { RequestHandler } from './$types'

/** GET /api/spend?range=…: tokens and cost by model over time, top users and sessions, per day. */
export const GET: RequestHandler = async ({ url }) => {
  const q = readQuery(url, SPEND_RANGE)
  if (!q.ok) return apiError('invalid_request', q.message)
  return jsonOf(() => spend(readTelemetry, q.range, q.range.step_ms, q.filters))
}
