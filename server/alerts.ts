// Threshold alerts to a webhook: evaluated every `intervalMs` with the same rules as the
// dashboard's banner (dashboard/src/lib/server/alert-rules.ts). One POST when an alert
// starts and one when it ends; nothing in between, however long it lasts.
import type { Sql } from 'postgres'
import { evaluateAlerts, thresholdsFromEnv, type AlertThresholds } from '../dashboard/src/lib/server/alert-rules.ts'
import type { Alert } from '../dashboard/src/lib/types.ts'

export interface AlertsOptions {
  sql: Sql
  /** Unset: alerts are only shown on the dashboard. */
  webhookUrl?: string
  /** 0..1; null turns the rule off. */
  errorRateThreshold?: number | null
  /** USD since 00:00 UTC; null turns the rule off. */
  dailySpendThreshold?: number | null
  windowMinutes?: number
  minRequests?: number
  intervalMs?: number
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

/** startAlerts options from ALERT_WEBHOOK_URL, ALERT_ERROR_RATE, ALERT_DAILY_SPEND_USD, ALERT_WINDOW_MINUTES, ALERT_MIN_REQUESTS, ALERT_INTERVAL_MS. */
export function alertOptionsFromEnv(env: Record<string, string | undefined>): Omit<AlertsOptions, 'sql'> {
  const t = thresholdsFromEnv(env)
  const interval = Number(env.ALERT_INTERVAL_MS ?? 30_000)
  if (!Number.isInteger(interval) || interval < 1000) throw new Error(`ALERT_INTERVAL_MS must be an integer ≥ 1000, got "${env.ALERT_INTERVAL_MS}"`)
  return {
    webhookUrl: env.ALERT_WEBHOOK_URL || undefined,
    errorRateThreshold: t.errorRate,
    dailySpendThreshold: t.dailySpend,
    windowMinutes: t.windowMinutes,
    minRequests: t.minRequests,
    intervalMs: interval,
  }
}

export function startAlerts(options: AlertsOptions): { stop(): Promise<void>; check(): Promise<Alert[]> } {
  const thresholds: AlertThresholds = {
    errorRate: options.errorRateThreshold === undefined ? 0.05 : options.errorRateThreshold,
    dailySpend: options.dailySpendThreshold ?? null,
    windowMinutes: options.windowMinutes ?? 5,
    minRequests: options.minRequests ?? 20,
  }
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

  const timer = setInterval(() => { if (!stopped) void check() }, options.intervalMs ?? 30_000)
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
