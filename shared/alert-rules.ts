// When an alert is raised. Shared by the dashboard's banner on every page and by server/alerts.ts
// (the webhook), so both say the same thing; the thresholds come from the config
// (shared/dashboard-config.ts).
import type { ISql } from 'postgres'

export interface Alert {
  /** Stable while the condition lasts: one webhook post per id. */
  id: string
  kind: 'error_rate' | 'daily_spend'
  severity: 'warning' | 'critical'
  title: string
  detail: string
  value: number
  threshold: number
  since: string
}

export interface AlertThresholds {
  /** Share of requests (0..1) failing with a server error over the window; null = off. */
  errorRate: number | null
  /** USD spent since 00:00 UTC; null = off. */
  dailySpend: number | null
  /** Error-rate window, minutes. */
  windowMinutes: number
  /** Fewer requests than this in the window never raise the error-rate alert (one failure of two is not an outage). */
  minRequests: number
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`

/** The alerts firing now (rollups only: two small reads). */
export async function evaluateAlerts(sql: ISql, t: AlertThresholds, now = new Date()): Promise<Alert[]> {
  const alerts: Alert[] = []
  if (t.errorRate !== null) {
    // Whole minutes: the current, still-filling minute would make the rate jumpy.
    const to = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000)
    const from = new Date(to.getTime() - t.windowMinutes * 60_000)
    const [row] = await sql<{ requests: number; errors: number }[]>`
      select coalesce(sum(requests), 0)::float8 as requests, coalesce(sum(errors), 0)::float8 as errors
      from telemetry.rollup_minute where bucket >= ${from} and bucket < ${to}`
    const rate = row && row.requests >= t.minRequests ? row.errors / row.requests : 0
    if (row && rate >= t.errorRate) {
      alerts.push({
        id: 'error_rate', kind: 'error_rate', severity: rate >= 2 * t.errorRate ? 'critical' : 'warning',
        title: `Error rate ${percent(rate)} over the last ${t.windowMinutes} min`,
        detail: `${row.errors} of ${row.requests} requests failed with a server error; threshold ${percent(t.errorRate)}.`,
        value: rate, threshold: t.errorRate, since: from.toISOString(),
      })
    }
  }
  if (t.dailySpend !== null) {
    const day = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000)
    const [row] = await sql<{ cost: number }[]>`
      select coalesce(sum(cost_usd), 0)::float8 as cost from telemetry.rollup_minute where bucket >= ${day}`
    const cost = row?.cost ?? 0
    if (cost >= t.dailySpend) {
      const date = day.toISOString().slice(0, 10)
      alerts.push({
        // One alert per day: tomorrow's overspend is a new one.
        id: `daily_spend:${date}`, kind: 'daily_spend', severity: cost >= 2 * t.dailySpend ? 'critical' : 'warning',
        title: `Spend today $${cost.toFixed(2)} is over $${t.dailySpend.toFixed(2)}`,
        detail: `Model cost since 00:00 UTC on ${date}.`,
        value: cost, threshold: t.dailySpend, since: day.toISOString(),
      })
    }
  }
  return alerts
}
