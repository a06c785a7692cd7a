// Alert rules through the whole stack (npm start's server, its database, Chromium): the ALERT_*
// rule written at the first start, the API's answers and its 400s, the /alerts page's form, and an
// alert that survives a server restart without being posted twice, then resolves when its rule goes.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../support/pg-cluster.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { eventually, OPERATOR, SECRET, startDashboard, type Dashboard } from './support.ts'
import { burst, insertRequests } from './alert-spans.ts'

let d: Dashboard
let restarted: RunningServer | undefined
let hook: Server
const posted: { status: string; alert: { id: string; rule: string } }[] = []
let env: Record<string, string>

beforeAll(async () => {
  const port = await freePort()
  hook = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => { posted.push(JSON.parse(body)); res.writeHead(204).end() })
  })
  await new Promise<void>((resolve) => hook.listen(port, '127.0.0.1', resolve))
  env = { ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, ALERT_INTERVAL_MS: '1000', ALERT_ERROR_RATE: '0.5', ALERT_MIN_REQUESTS: '1', ALERT_WINDOW_MINUTES: '60' }
  d = await startDashboard(env)
})

afterAll(async () => {
  await restarted?.stop()
  await d?.stop()
  await new Promise((resolve) => hook?.close(resolve))
})

interface Rule { id: number; name: string; threshold: number; state: { firing: number } }

function send(base: string, method: string, path: string, body?: unknown, type = 'application/json') {
  return fetch(`${base}${path}`, {
    method, headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': type },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
}
const rules = async (base = d.base) => ((await (await send(base, 'GET', '/api/alert-rules')).json()) as { rules: Rule[] }).rules

describe('alert rules', () => {
  it('starts with the rule the ALERT_* settings describe', async () => {
    const [rule] = await eventually(() => rules(), (r) => r.length > 0)
    expect(rule).toMatchObject({ name: 'Error rate', metric: 'error_rate', threshold: 0.5, window_minutes: 60, min_requests: 1, enabled: true })
  })

  it('answers a bad rule with a 400 that lists what is wrong', async () => {
    const res = await send(d.base, 'POST', '/api/alert-rules', { name: '', metric: 'p99', threshold: 'high', window_minutes: 0 })
    expect(res.status).toBe(400)
    const { error } = await res.json() as { error: { code: string; message: string; trace_id: string } }
    expect(error.code).toBe('invalid_request')
    expect(error.trace_id).toMatch(/^[0-9a-f]{32}$/)
    for (const part of ['name is required', 'metric must be one of', 'threshold must be a number', 'window_minutes must be an integer in [1, 10080]']) {
      expect(error.message).toContain(part)
    }
    const valid = { name: 'Error rate', metric: 'stall_rate', threshold: 0.1, window_minutes: 5 }
    const answers = await Promise.all([
      send(d.base, 'POST', '/api/alert-rules', valid),
      send(d.base, 'POST', '/api/alert-rules', '{"name":', 'application/json'),
      send(d.base, 'POST', '/api/alert-rules', JSON.stringify(valid), 'text/plain'),
      send(d.base, 'PUT', '/api/alert-rules/abc', valid),
      send(d.base, 'PUT', '/api/alert-rules/999999', { ...valid, name: 'x' }),
      send(d.base, 'DELETE', '/api/alert-rules/999999'),
    ])
    expect(answers.map((r) => r.status)).toEqual([400, 400, 400, 400, 404, 404])
    expect(((await answers[0]!.json()) as { error: { message: string } }).error.message).toContain('a rule named "Error rate" already exists')
  })

  it('creates, replaces and deletes a rule', async () => {
    const created = await send(d.base, 'POST', '/api/alert-rules', { name: 'Slow first token', metric: 'ttfb_p95', threshold: 2000, window_minutes: 15 })
    expect(created.status).toBe(201)
    const { rule } = await created.json() as { rule: Rule }
    expect(rule).toMatchObject({ name: 'Slow first token', min_requests: 1, cooldown_minutes: 0, updated_by: 'api token', state: { firing: 0 } })
    const replaced = await send(d.base, 'PUT', `/api/alert-rules/${rule.id}`, { ...rule, threshold: 2500, cooldown_minutes: 30 })
    expect(replaced.status).toBe(200)
    expect(await (await d.api(`/api/alert-rules/${rule.id}`)).json()).toMatchObject({ rule: { threshold: 2500, cooldown_minutes: 30 } })
    expect((await send(d.base, 'DELETE', `/api/alert-rules/${rule.id}`)).status).toBe(200)
    expect((await d.api(`/api/alert-rules/${rule.id}`)).status).toBe(404)
  })

  it('edits rules on the /alerts page', async () => {
    const page = await d.login('pat')
    // After hydration, which sets the inputs' values again.
    await page.goto(`${d.base}/alerts`, { waitUntil: 'networkidle' })
    expect(await page.title()).toBe('Alerts · streamscope')
    await page.getByLabel('Name', { exact: true }).fill('Slow streams')
    await page.getByLabel('Metric').selectOption('itl_p95')
    await page.getByLabel(/^Threshold/).fill('800')
    await page.getByLabel('Window, minutes').fill('15')
    await page.getByTestId('rule-save').click()
    const row = page.locator('[data-testid="alert-rule"]', { hasText: 'Slow streams' })
    await row.waitFor()
    expect(await row.textContent()).toMatch(/ITL p95\s*≥ 800 ms\s*15 min/)

    // The server's own refusal, listed on the page with the values kept.
    await page.getByLabel('Name', { exact: true }).fill('Slow streams')
    await page.getByLabel('Metric').selectOption('itl_p95')
    await page.getByLabel(/^Threshold/).fill('900')
    await page.getByLabel('Window, minutes').fill('15')
    await page.getByTestId('rule-save').click()
    await page.getByTestId('rule-problems').waitFor()
    expect(await page.getByTestId('rule-problems').textContent()).toContain('a rule named "Slow streams" already exists')
    expect(await page.getByLabel(/^Threshold/).inputValue()).toBe('900')

    await row.getByRole('link', { name: 'Edit Slow streams' }).click()
    await page.getByRole('heading', { name: 'Edit “Slow streams”' }).waitFor()
    await page.getByLabel(/^Threshold/).fill('950')
    await page.getByTestId('rule-save').click()
    await page.locator('[data-testid="alert-rule"]', { hasText: '950 ms' }).waitFor()
    await page.getByTestId('rule-delete').click()
    await row.waitFor({ state: 'detached' })
    expect((await rules()).map((r) => r.name)).toEqual(['Error rate'])

    // A phone's width: the table scrolls in its own region, the page's content does not.
    await page.setViewportSize({ width: 390, height: 800 })
    expect(await page.evaluate(() => { const main = document.querySelector('main')!; return main.scrollWidth - main.clientWidth })).toBe(0)
    await page.context().close()
  })

  it('keeps a firing alert across a restart, posting it once, and resolves it when its rule is deleted', async () => {
    await insertRequests(d.db.sql, burst(new Date(Date.now() - 60_000), 4, 4))
    const firing = await eventually(async () => (await (await d.api('/api/alerts')).json()) as { alerts: { id: string }[] }, (b) => b.alerts.length === 1)
    await eventually(async () => posted.length, (n) => n === 1)
    expect(posted[0]).toMatchObject({ status: 'firing', alert: { id: firing.alerts[0]!.id, rule: 'Error rate' } })

    await d.server.stop()
    const [{ stopped }] = await d.db.sql<{ stopped: Date }[]>`select now() as stopped`
    restarted = await startServer({ DATABASE_URL: d.db.url, JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR, ...env })
    const base = restarted.baseUrl
    // The new server has evaluated since: the alert is the same one, and nothing was posted again.
    await eventually(async () => (await d.db.sql`select 1 from telemetry.alert_state where evaluated_at > ${stopped}`).length, (n) => n > 0)
    const again = (await (await send(base, 'GET', '/api/alerts')).json()) as { alerts: { id: string }[] }
    expect(again.alerts.map((a) => a.id)).toEqual([firing.alerts[0]!.id])
    const health = (await (await send(base, 'GET', '/api/health')).json()) as { alert_history: { firing_id: string; resolved_at: string | null }[] }
    expect(health.alert_history).toEqual([expect.objectContaining({ firing_id: firing.alerts[0]!.id, resolved_at: null })])
    expect(posted).toHaveLength(1)

    const [rule] = await rules(base)
    expect((await send(base, 'DELETE', `/api/alert-rules/${rule!.id}`)).status).toBe(200)
    await eventually(async () => posted.map((p) => p.status), (s) => s.length === 2)
    expect(posted[1]).toMatchObject({ status: 'resolved', alert: { id: firing.alerts[0]!.id } })
  })
})
