import { evaluateAlerts } from '$shared/alert-rules'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/** GET /api/alerts: the alerts firing now, as the banner shows them. */
export const GET: RequestHandler = async () => {
  const { thresholds } = dashboardConfig().alerts
  return jsonRead(async (sql) => ({ thresholds, alerts: await evaluateAlerts(sql, thresholds) }))
}
