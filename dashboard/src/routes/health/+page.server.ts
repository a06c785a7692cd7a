import { fail } from '@sveltejs/kit'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { readTelemetry, writeAsDashboard } from '$lib/server/db'
import { TRANSPORT_FLAG, TRANSPORTS, flagHistory, getFlag, setFlag } from '$lib/server/flags'
import { processFaults } from '$lib/server/faults'
import { alertHistory, health } from '$lib/server/health'
import { listAlertRules } from '$lib/server/alert-rules'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = async () => {
  const { sloTarget, alerts, chatTransportOverride } = dashboardConfig()
  const [h, flag, history, faults, rules, alertsFired] = await readTelemetry((sql) =>
    Promise.all([health(sql, sloTarget), getFlag(sql, TRANSPORT_FLAG), flagHistory(sql, TRANSPORT_FLAG), processFaults(sql),
      listAlertRules(sql), alertHistory(sql)]),
  )
  return {
    health: h,
    faults,
    flag,
    history,
    rules,
    alertsFired,
    webhook: alerts.webhookUrl ? alerts.webhookFormat : null,
    override: chatTransportOverride || null,
  }
}

export const actions: Actions = {
  /** The backout switch. Posted from the confirmation dialog, which adds confirm=yes. */
  transport: async ({ request, locals }) => {
    const form = await request.formData()
    const value = form.get('value')
    if (typeof value !== 'string' || !(TRANSPORTS as readonly string[]).includes(value)) {
      return fail(400, { error: `The transport must be one of ${TRANSPORTS.join(', ')}.` })
    }
    if (form.get('confirm') !== 'yes') return fail(400, { error: 'The switch was not confirmed.' })
    try {
      const flag = await writeAsDashboard((sql) => setFlag(sql, TRANSPORT_FLAG, value, locals.operatorName ?? 'operator', locals.identity?.userId ?? null))
      return { switched: flag.value }
    } catch (err) {
      console.error(`[dashboard] flag switch failed: ${(err as Error).message}`)
      return fail(500, { error: `The flag was not changed: ${(err as Error).message}` })
    }
  },
}
