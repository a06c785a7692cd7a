import { env } from '$env/dynamic/private'
import { evaluateAlerts, thresholdsFromEnv } from '$lib/server/alert-rules'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/** GET /api/alerts: the alerts firing now, as the banner shows them. */
export const GET: RequestHandler = async () => {
  const thresholds = thresholdsFromEnv(env)
  return jsonRead(async (sql) => ({ thresholds, alerts: await evaluateAlerts(sql, thresholds) }))
}
