// The Node side of alerting, run by `npm start` and `npm run dashboard`: every `intervalMs` it calls
// telemetry.evaluate_alerts (the one evaluator; pg_cron runs the same function every minute on
// Supabase), which stores each rule's state and appends firings and resolutions to
// telemetry.alert_events; then it posts the events still pending to the webhook (alert-webhook.ts).
// A restart loses nothing: state, history and undelivered events are rows.
import type { Sql } from 'postgres'
import { firingAlerts, seedRules, toAlert, type Alert } from '../shared/alert-rules.ts'
import type { AlertsConfig } from '../shared/dashboard-config.ts'
import { transaction } from '../shared/db/transaction.ts'
import { deliverPending, EVENT_COLUMNS, type EventRow, type Sender } from './alert-webhook.ts'

/** The config's alerts section (webhookUrl '' = alerts are only shown on the dashboard), and the runtime. */
export interface AlertsOptions extends AlertsConfig {
  sql: Sql
  log?: (line: string) => void
  fetch?: typeof fetch
  /** The clock the rules are evaluated at (tests move it). */
  now?: () => Date
}

export interface AlertsLoop {
  /** One pass (or the one running): evaluate, notify; the alerts firing after it. */
  check(): Promise<Alert[]>
  stop(): Promise<void>
}

/**
 * The ALERT_* thresholds as rules, once per database: the first start marks telemetry.settings,
 * and from then on the rules are what operators make of them on /alerts.
 */
export async function seedAlertRules(sql: Sql, seed: AlertsConfig['seed']): Promise<number> {
  return transaction(sql, async (tx) => {
    const [first] = await tx`update telemetry.settings set alert_rules_seeded_at = now() where alert_rules_seeded_at is null returning 1`
    const rules = seedRules(seed).map((r) => ({ ...r, updated_by: 'ALERT_* settings' }))
    if (!first || !rules.length) return 0
    await tx`insert into telemetry.alert_rules ${tx(rules)} on conflict (name) do nothing`
    return rules.length
  })
}

/** One evaluation at `now`: the transitions it made. */
export function evaluate(sql: Sql, now: Date): Promise<EventRow[]> {
  return sql<EventRow[]>`select ${sql.unsafe(EVENT_COLUMNS)} from telemetry.evaluate_alerts(${now})`
}

export function startAlerts(options: AlertsOptions): AlertsLoop {
  const { sql } = options
  const log = options.log ?? ((line: string) => console.error(`[alerts] ${line}`))
  const sender: Sender | null = options.webhookUrl
    ? { url: options.webhookUrl, format: options.webhookFormat, fetch: options.fetch ?? fetch, log }
    : null
  let seeded = false
  let running: Promise<Alert[]> | undefined
  let stopped = false

  async function pass(): Promise<Alert[]> {
    try {
      if (!seeded) {
        const n = await seedAlertRules(sql, options.seed)
        if (n) log(`wrote ${n} alert rule(s) from the ALERT_* settings`)
        seeded = true
      }
      for (const event of await evaluate(sql, options.now?.() ?? new Date())) log(`${event.status}: ${toAlert(event).title}`)
      await deliverPending(sql, sender)
      return await firingAlerts(sql)
    } catch (err) {
      log(`evaluation failed: ${(err as Error).message}`)
      return []
    }
  }

  function check(): Promise<Alert[]> {
    // One pass at a time: a slow webhook must not make two passes post the same event.
    running ??= pass().finally(() => { running = undefined })
    return running
  }

  const timer = setInterval(() => { if (!stopped) void check() }, options.intervalMs)
  timer.unref()
  void check()

  return {
    check,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running?.catch(() => {})
    },
  }
}
