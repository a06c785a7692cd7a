// Threshold alerts to a webhook: evaluated every `intervalMs` with the same rules as the
// dashboard's banner (shared/alert-rules.ts). One POST when an alert starts and one when it
// ends; nothing in between, however long it lasts.
import type { Sql } from 'postgres'
import { evaluateAlerts, type Alert } from '../shared/alert-rules.ts'
import type { AlertsConfig } from '../shared/dashboard-config.ts'

/** The config's alerts section (webhookUrl '' = alerts are only shown on the dashboard), and the runtime. */
export interface AlertsOptions extends AlertsConfig {
  sql: Sql
  log?: (line: string) => void
  fetch?: typeof fetch
  /** The clock the rules read (tests move it). */
  now?: () => Date
}

export interface AlertEvent {
  status: 'firing' | 'resolved'
  alert: Alert
  dashboard_path: string
  sent_at: string
}

export function startAlerts(options: AlertsOptions): { stop(): Promise<void>; check(): Promise<Alert[]> } {
  const { thresholds } = options
  const log = options.log ?? ((line: string) => console.error(`[alerts] ${line}`))
  const post = options.fetch ?? fetch
  // Alerts already announced, by id. An alert whose POST failed is not in here, so the
  // next pass tries again; one that is stays quiet until it resolves.
  const announced = new Map<string, Alert>()
  let running: Promise<Alert[]> | undefined
  let stopped = false

  async function send(status: AlertEvent['status'], alert: Alert): Promise<boolean> {
    if (!options.webhookUrl) return true
    const event: AlertEvent = { status, alert, dashboard_path: alert.kind === 'daily_spend' ? '/spend' : '/health', sent_at: new Date().toISOString() }
    try {
      const res = await post(options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'streamscope-alerts' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(10_000),
      })
      await res.body?.cancel()
      if (!res.ok) throw new Error(`webhook answered ${res.status}`)
      return true
    } catch (err) {
      log(`could not post ${status} ${alert.id}: ${(err as Error).message}; will retry`)
      return false
    }
  }

  async function pass(): Promise<Alert[]> {
    let firing: Alert[]
    try {
      firing = await evaluateAlerts(options.sql, thresholds, options.now?.() ?? new Date())
    } catch (err) {
      log(`evaluation failed: ${(err as Error).message}`)
      return [...announced.values()]
    }
    const ids = new Set(firing.map((a) => a.id))
    for (const alert of firing) {
      if (announced.has(alert.id)) continue
      log(`firing: ${alert.title}`)
      if (await send('firing', alert)) announced.set(alert.id, alert)
    }
    for (const [id, alert] of announced) {
      if (ids.has(id)) continue
      log(`resolved: ${alert.title}`)
      if (await send('resolved', alert)) announced.delete(id)
    }
    return firing
  }

  function check(): Promise<Alert[]> {
    // One pass at a time: a slow webhook must not make two passes post the same alert.
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
