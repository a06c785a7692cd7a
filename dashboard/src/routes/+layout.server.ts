import { firingAlerts } from '$shared/alert-rules'
import { readTelemetry } from '$lib/server/db'
import type { OperatorRole } from '$lib/server/operators'
import type { Alert } from '$lib/types'
import type { LayoutServerLoad } from './$types'

export const load: LayoutServerLoad = async ({ locals }) => {
  // Anonymous visitors (login, the prerendered user apps) get nothing from the database.
  if (!locals.operator) {
    return { operator: false, operatorName: null, role: null as OperatorRole | null, account: false, alerts: [] as Alert[], alertsError: null }
  }
  let alerts: Alert[] = []
  let alertsError: string | null = null
  try {
    // As the evaluator last stored them (server/alerts.ts, pg_cron): a page load evaluates nothing.
    alerts = await readTelemetry(firingAlerts)
  } catch (err) {
    // The page itself may still render; say why the alerts are missing instead of hiding it.
    alertsError = err instanceof Error ? err.message : String(err)
  }
  return {
    operator: true,
    operatorName: locals.operatorName ?? 'operator',
    /** What the signed-in person may do (operators.ts): pages hide the switches a viewer cannot use. */
    role: (locals.identity?.role ?? null) as OperatorRole | null,
    /** Signed in with a Supabase account rather than the shared token. */
    account: Boolean(locals.identity?.userId),
    alerts,
    alertsError,
  }
}
