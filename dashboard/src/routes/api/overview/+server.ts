import { apiError } from '$lib/server/api'
import { readTelemetry } from '$lib/server/db'
import { overview } from '$lib/server/overview'
import { OVERVIEW_RANGE, readQuery } from '$lib/server/params'
import { jsonOf } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/** GET /api/overview?range=…&function&model&status&user: KPIs (with the previous period) and chart series. */
export const GET: RequestHandler = async ({ url }) => {
  const q = readQuery(url, OVERVIEW_RANGE)
  if (!q.ok) return apiError('invalid_request', q.message)
  return jsonOf(() => overview(readTelemetry, q.range, q.range.step_ms, q.filters))
}
