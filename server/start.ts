// `npm start`: the whole product in one Node process — the functions under
// /functions/v1/*, the dashboard everywhere else, on an embedded PostgreSQL unless DATABASE_URL is set.
import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { migrate } from '../shared/db/migrate.ts'
import { createFunctions } from '../functions/compose.ts'
import { readServerConfig } from './config.ts'
import { loadDashboard } from './dashboard.ts'
import { openDatabase } from './database.ts'
import { installLastResort, recordingTraceId, requestScope } from './last-resort.ts'
import { startDemoTraffic } from './demo-traffic.ts'
import { readMigrations } from './migrations.ts'
import { startMaintenance } from './maintenance.ts'
import { startAlerts } from './alerts.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from './dev-defaults.ts'
import { createLocalAuth } from './local-auth.ts'
import { withNodeSse } from './sse-writer.ts'

const t0 = performance.now()
const log = (line: string) => console.error(`[streamscope] ${line}`)

const config = readServerConfig(process.env)
const { port, host, demo, localDbDir } = config
const { jwtSecret } = config.functions

const db = await openDatabase(config.dashboard.databaseUrl || undefined, localDbDir, log)
const applied = await migrate(db.sql, await readMigrations())
if (applied.length) log(`applied migrations: ${applied.join(', ')}`)
const app = createFunctions(db.sql, config.functions)
const lastResort = installLastResort(app.telemetry.logger)

// The dashboard connects to this server's database (the embedded one when DATABASE_URL is unset).
const dashboard = await loadDashboard({ ...config.dashboard, databaseUrl: db.url }, log)
const functions = getRequestListener(withNodeSse(recordingTraceId(app.fetch)), { overrideGlobalObjects: false })
const localAuth = getRequestListener(createLocalAuth({ jwtSecret, enabled: config.localAuth }), { overrideGlobalObjects: false })

const route: Parameters<typeof createServer>[1] = (req, res) => {
  if (req.url?.startsWith('/functions/')) return void functions(req, res)
  if (req.url?.startsWith('/local-auth/')) return void localAuth(req, res)
  dashboard(req, res, () => { res.statusCode = 404; res.end('not found') })
}
const server = createServer((req, res) => {
  const scope = { method: req.method ?? '', path: (req.url ?? '').split('?')[0], traceId: null }
  requestScope.run(scope, () => route(req, res))
})
await new Promise<void>((resolve) => server.listen(port, host, resolve))
const baseUrl = `http://${host}:${port}`

// Partitions ahead of the clock, retention by whole-day partition drops, rollup pruning.
const maintenance = startMaintenance(db.sql, { retentionDays: config.dashboard.retentionDays, log })
// Alert rules (telemetry.alert_rules) evaluated into their persisted state; changes POSTed to ALERT_WEBHOOK_URL.
const alerts = startAlerts({ sql: db.sql, ...config.dashboard.alerts, log })

const traffic = demo ? startDemoTraffic({ baseUrl, jwtSecret }) : undefined

// A secret is printed only while it is the published development default; a configured one never.
const shown = (value: string | undefined, dev: string, hint: string) =>
  value === dev ? `${value} (development default${hint})` : 'configured (not shown)'
console.log(`
streamscope is up in ${Math.round(performance.now() - t0)} ms on ${db.kind === 'embedded' ? `embedded PostgreSQL (${localDbDir})` : 'PostgreSQL (DATABASE_URL)'}

  dashboard       ${baseUrl}/
  chat function   POST ${baseUrl}/functions/v1/chat
  operator token  ${shown(config.dashboard.operatorToken, DEV_OPERATOR_TOKEN, '; set OPERATOR_TOKEN')}
  JWT secret      ${shown(jwtSecret, DEV_JWT_SECRET, '')}
  user token      npm run -s token -- --sub <uuid>
  demo traffic    ${demo ? 'on (DEMO=0 turns it off)' : 'off'}

  curl -N ${baseUrl}/functions/v1/chat \\
    -H "authorization: Bearer $(npm run -s token -- --sub 7d3f6a52-9a43-4d8e-a1b2-3c4d5e6f7a8b)" \\
    -H 'content-type: application/json' \\
    -d '{"session_id":"5b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e2f","content":"hello"}'
`)

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  log(`${signal}: draining…`)
  traffic?.stop()
  await maintenance.stop()
  await alerts.stop()
  server.closeIdleConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await app.telemetry.flush().catch(() => {})
  await app.telemetry.shutdown().catch(() => {})
  await db.close()
  lastResort.uninstall()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
