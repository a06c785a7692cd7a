import { firingAlerts } from '$shared/alert-rules'
import { listAlertRules } from '$lib/server/alert-rules'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/** GET /api/alerts: the alerts firing now, as the banner shows them, and the rules they come from. */
export const GET: RequestHandler = () =>
  jsonRead(async (sql) => {
    const [alerts, rules] = await Promise.all([firingAlerts(sql), listAlertRules(sql)])
    return { alerts, rules }
  })
