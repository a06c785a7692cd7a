import { dashboardConfig } from '$shared/dashboard-handoff'
import { processFaults } from '$lib/server/faults'
import { flagHistory, getFlag, TRANSPORT_FLAG } from '$lib/server/flags'
import { alertHistory, health } from '$lib/server/health'
import { jsonRead } from '$lib/server/respond'
import type { RequestHandler } from './$types'

/** GET /api/health: SSE health windows with burn rates, the chat_transport flag and its history, survived process faults, alert firings. */
export const GET: RequestHandler = async () => {
  const slo = dashboardConfig().sloTarget
  return jsonRead(async (sql) => {
    const [h, flag, history, faults, alerts] = await Promise.all([
      health(sql, slo), getFlag(sql, TRANSPORT_FLAG), flagHistory(sql, TRANSPORT_FLAG), processFaults(sql), alertHistory(sql),
    ])
    return { ...h, flag, history, process_faults: faults, alert_history: alerts }
  })
}
