// server/alerts.ts against a local HTTP receiver: the ALERT_* settings become rules once per
// database; an alert is posted once when it fires, never again while it lasts, once more when it
// resolves; a failed post is retried on the next pass; two servers on one database post each event
// once; the Slack format; the settings read from the environment.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { freePort } from '../support/pg-cluster.ts'
import { startAlerts, type AlertsOptions } from '../../server/alerts.ts'
import type { AlertEvent } from '../../server/alert-webhook.ts'
import { readDashboardConfig } from '../../shared/dashboard-config.ts'
import { burst, insertRequests, minutes } from './alert-spans.ts'

let db: TestDatabase
let receiver: Server
let url: string
const received: unknown[] = []
let failNext = 0

// A minute with 40 chat requests, 10 of them failed (25%): $30 at gpt-4o prices.
const MINUTE = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000)
const SEED = { errorRate: 0.1, dailySpend: null, windowMinutes: 5, minRequests: 20 }

beforeAll(async () => {
  const port = await freePort()
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      if (failNext > 0) {
        failNext--
        res.writeHead(503).end()
        return
      }
      received.push(JSON.parse(body))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${port}/hook`
})

beforeEach(async () => {
  await db?.drop()
  db = await freshDatabase()
  await insertRequests(db.sql, burst(minutes(MINUTE, 1), 40, 10))
  received.length = 0
})

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve))
  await db?.drop()
})

const loop = (options: Partial<AlertsOptions> & { now: () => Date }) => startAlerts({
  sql: db.sql, webhookUrl: url, webhookFormat: 'json', seed: SEED, intervalMs: 3_600_000, log: () => {}, ...options,
})
const events = () => received as AlertEvent[]

describe('startAlerts', () => {
  it('posts an error-rate alert once while it lasts, then its resolution', async () => {
    let now = new Date(MINUTE.getTime() + 90_000)
    const logs: string[] = []
    failNext = 1
    const alerts = loop({ now: () => now, log: (l) => logs.push(l) })
    await alerts.check()
    // The first post failed (503): the event stays pending, the next pass retries it.
    expect(received).toHaveLength(0)
    expect(logs.join('\n')).toMatch(/wrote 1 alert rule[^]*firing: Error rate[^]*will retry/)
    await alerts.check()
    await alerts.check()
    await alerts.check()
    expect(received).toHaveLength(1)
    expect(events()[0]).toMatchObject({ status: 'firing', alert: { rule: 'Error rate', metric: 'error_rate', threshold: 0.1, subject: null }, dashboard_path: '/health' })
    expect(events()[0]!.alert.value).toBeCloseTo(0.25)

    now = new Date(MINUTE.getTime() + 20 * 60_000)
    await alerts.check()
    await alerts.check()
    expect(events().map((e) => e.status)).toEqual(['firing', 'resolved'])
    // One alert from firing to resolution.
    expect(events()[1]!.alert.id).toBe(events()[0]!.alert.id)
    expect(await db.sql`select status, delivery, attempts from telemetry.alert_events order by id`).toEqual([
      { status: 'firing', delivery: 'sent', attempts: 2 }, { status: 'resolved', delivery: 'sent', attempts: 1 },
    ])
    await alerts.stop()
  })

  it('writes the ALERT_* rules at the first start only', async () => {
    const first = loop({ now: () => MINUTE, seed: { ...SEED, dailySpend: 1 } })
    await first.check()
    await first.stop()
    await db.sql`delete from telemetry.alert_rules where name = 'Error rate'`
    const second = loop({ now: () => MINUTE, seed: { ...SEED, errorRate: 0.5, dailySpend: 9 } })
    await second.check()
    await second.stop()
    expect(await db.sql`select name, metric, threshold, window_minutes from telemetry.alert_rules`).toEqual([
      { name: 'Daily spend', metric: 'spend', threshold: 1, window_minutes: 1440 },
    ])
  })

  it('posts a spend alert with the day\'s rolling spend', async () => {
    const alerts = loop({ now: () => new Date(MINUTE.getTime() + 90_000), seed: { ...SEED, errorRate: null, dailySpend: 1 } })
    const firing = await alerts.check()
    await alerts.check()
    expect(firing.map((a) => a.metric)).toEqual(['spend'])
    expect(received).toHaveLength(1)
    expect(events()[0]).toMatchObject({ status: 'firing', alert: { rule: 'Daily spend', severity: 'critical' }, dashboard_path: '/spend?range=24h' })
    expect(events()[0]!.alert.value).toBeCloseTo(30, 4)
    await alerts.stop()
  })

  it('posts each event once when two servers share the database', async () => {
    const now = () => new Date(MINUTE.getTime() + 90_000)
    const [a, b] = [loop({ now }), loop({ now })]
    await Promise.all([a.check(), b.check()])
    await Promise.all([a.check(), b.check()])
    expect(events().map((e) => e.status)).toEqual(['firing'])
    await Promise.all([a.stop(), b.stop()])
  })

  it('posts a Slack message with ALERT_WEBHOOK_FORMAT=slack', async () => {
    const alerts = loop({ now: () => new Date(MINUTE.getTime() + 90_000), webhookFormat: 'slack' })
    await alerts.check()
    const [message] = received as { text: string; blocks: { type: string; text?: { type: string; text: string } }[] }[]
    expect(message!.text).toMatch(/^:rotating_light: Firing \(critical\): Error rate 25\.0% over the last 5 min$/)
    expect(message!.blocks.map((b) => b.type)).toEqual(['section', 'context'])
    expect(message!.blocks[0]!.text).toMatchObject({ type: 'mrkdwn' })
    await alerts.stop()
  })

  it('marks events skipped without a webhook, and still keeps the state', async () => {
    const alerts = loop({ now: () => new Date(MINUTE.getTime() + 90_000), webhookUrl: '' })
    expect((await alerts.check()).map((a) => a.rule)).toEqual(['Error rate'])
    expect(await db.sql`select delivery from telemetry.alert_events`).toEqual([{ delivery: 'skipped' }])
    await alerts.stop()
  })

  it('reads its settings from the environment and refuses bad ones', () => {
    const alerts = (env: Record<string, string>) => readDashboardConfig(env).alerts
    expect(alerts({ ALERT_WEBHOOK_URL: url, ALERT_ERROR_RATE: '0.02', ALERT_DAILY_SPEND_USD: '50', ALERT_WEBHOOK_FORMAT: 'slack' })).toEqual({
      webhookUrl: url, webhookFormat: 'slack', seed: { errorRate: 0.02, dailySpend: 50, windowMinutes: 5, minRequests: 20 }, intervalMs: 30_000,
    })
    expect(alerts({})).toEqual({ webhookUrl: '', webhookFormat: 'json', seed: { errorRate: 0.05, dailySpend: null, windowMinutes: 5, minRequests: 20 }, intervalMs: 30_000 })
    expect(alerts({ ALERT_ERROR_RATE: 'off' }).seed.errorRate).toBeNull()
    expect(() => alerts({ ALERT_ERROR_RATE: '5', ALERT_INTERVAL_MS: '10', ALERT_WEBHOOK_FORMAT: 'xml' }))
      .toThrow(/ALERT_WEBHOOK_FORMAT must be one of json, slack[^]*ALERT_ERROR_RATE must be a share in \(0, 1\][^]*ALERT_INTERVAL_MS must be an integer/)
  })
})
