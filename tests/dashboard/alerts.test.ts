// server/alerts.ts against a local HTTP receiver: an alert is posted once when it starts,
// never again while it lasts, once more when it ends; a failed post is retried.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { freePort } from '../support/pg-cluster.ts'
import { createTelemetryPipeline } from '../../shared/telemetry/pipeline.ts'
import type { SpanRow } from '../../shared/telemetry/rows.ts'
import { startAlerts, type AlertEvent } from '../../server/alerts.ts'
import { readDashboardConfig } from '../../shared/dashboard-config.ts'

let db: TestDatabase
let receiver: Server
let url: string
const received: AlertEvent[] = []
let failNext = 0

// A minute with 40 chat requests, 10 of them failed (25%), priced at gpt-4o rates.
const MINUTE = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000)

function request(i: number, failed: boolean): SpanRow {
  const t = new Date(MINUTE.getTime() + i * 1000)
  return {
    trace_id: i.toString(16).padStart(32, 'a'), span_id: i.toString(16).padStart(16, 'b'), parent_span_id: null,
    name: 'POST /functions/v1/chat', kind: 'server', start_time: t, end_time: new Date(t.getTime() + 900), duration_ms: 900,
    status_code: failed ? 'error' : 'unset', status_message: null, function: 'chat', model: 'gpt-4o', ttfb_ms: 200,
    input_tokens: 100_000, output_tokens: 50_000, error_type: failed ? 'provider_error' : null, user_id: 'u1', session_id: 's1',
    attributes: {}, events: null, frame_offsets_ms: [200, 300], frames: 2, bytes: 200, end_reason: failed ? 'error' : 'done',
    stalls: 0, max_gap_ms: 100, usage_estimated: false, http_status: 200, run_id: null,
  }
}

beforeAll(async () => {
  db = await freshDatabase()
  const pipeline = createTelemetryPipeline(db.sql)
  pipeline.pushSpans(Array.from({ length: 40 }, (_, i) => request(i, i % 4 === 0)))
  await pipeline.shutdown()
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
      received.push(JSON.parse(body) as AlertEvent)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${port}/hook`
})

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve))
  await db?.drop()
})

describe('startAlerts', () => {
  it('posts an error-rate alert once while it lasts, then its resolution', async () => {
    let now = new Date(MINUTE.getTime() + 30_000)
    const logs: string[] = []
    failNext = 1
    const alerts = startAlerts({
      sql: db.sql, webhookUrl: url, thresholds: { errorRate: 0.1, dailySpend: null, windowMinutes: 5, minRequests: 20 },
      intervalMs: 3_600_000, now: () => now, log: (l) => logs.push(l),
    })
    await alerts.check()
    // The first post failed (503): nothing counted as sent, the next pass retries.
    expect(received).toHaveLength(0)
    expect(logs.join('\n')).toContain('will retry')
    await alerts.check()
    await alerts.check()
    await alerts.check()
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({ status: 'firing', alert: { id: 'error_rate', kind: 'error_rate', threshold: 0.1 } })
    expect(received[0]!.alert.value).toBeCloseTo(0.25)

    now = new Date(MINUTE.getTime() + 20 * 60_000)
    await alerts.check()
    await alerts.check()
    expect(received.map((e) => e.status)).toEqual(['firing', 'resolved'])
    await alerts.stop()
  })

  it('posts a daily spend alert with the day in its id', async () => {
    received.length = 0
    const alerts = startAlerts({
      sql: db.sql, webhookUrl: url, thresholds: { errorRate: null, dailySpend: 1, windowMinutes: 5, minRequests: 20 }, intervalMs: 3_600_000,
      now: () => new Date(MINUTE.getTime() + 30_000), log: () => {},
    })
    const firing = await alerts.check()
    await alerts.check()
    // 40 × (100k × $2.50 + 50k × $10) / 1M = $30.
    expect(firing.map((a) => a.kind)).toEqual(['daily_spend'])
    expect(received).toHaveLength(1)
    expect(received[0]!.alert.id).toBe(`daily_spend:${MINUTE.toISOString().slice(0, 10)}`)
    expect(received[0]!.alert.value).toBeCloseTo(30, 4)
    await alerts.stop()
  })

  it('reads its settings from the environment and refuses bad ones', () => {
    const alerts = (env: Record<string, string>) => readDashboardConfig(env).alerts
    expect(alerts({ ALERT_WEBHOOK_URL: url, ALERT_ERROR_RATE: '0.02', ALERT_DAILY_SPEND_USD: '50' })).toEqual({
      webhookUrl: url, thresholds: { errorRate: 0.02, dailySpend: 50, windowMinutes: 5, minRequests: 20 }, intervalMs: 30_000,
    })
    expect(alerts({})).toEqual({ webhookUrl: '', thresholds: { errorRate: 0.05, dailySpend: null, windowMinutes: 5, minRequests: 20 }, intervalMs: 30_000 })
    expect(alerts({ ALERT_ERROR_RATE: 'off' }).thresholds.errorRate).toBeNull()
    expect(() => alerts({ ALERT_ERROR_RATE: '5', ALERT_INTERVAL_MS: '10' })).toThrow(/ALERT_ERROR_RATE must be a share in \(0, 1\][^]*ALERT_INTERVAL_MS must be an integer/)
  })
})
