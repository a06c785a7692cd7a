// `npm run dashboard`: the dashboard alone, against a database that is migrated and served by
// someone else (a Supabase project's: `supabase db push`, the functions deployed there). No
// functions, no demo traffic, no local sign-in, no migrations; the telemetry housekeeping and the
// alert webhook run here, as under `npm start`.
import { createServer } from 'node:http'
import postgres from 'postgres'
import { CLIENT_OPTIONS } from '../shared/db/client-options.ts'
import { errorResponse } from '../shared/http/errors.ts'
import { startAlerts } from './alerts.ts'
import { loadDashboard } from './dashboard.ts'
import { dashboardOnlySettings } from './dashboard-only-env.ts'
import { DEV_OPERATOR_TOKEN } from './dev-defaults.ts'
import { startMaintenance } from './maintenance.ts'

const log = (line: string) => console.error(`[dashboard] ${line}`)
let settings
try {
  settings = dashboardOnlySettings(process.env, process.argv.slice(2))
} catch (err) {
  log((err as Error).message)
  process.exit(1)
}
const { dashboard: config, production } = settings

const sql = postgres(config.databaseUrl, { max: 2, ...CLIENT_OPTIONS })
const [{ migrated }] = await sql`select to_regclass('telemetry.settings') is not null as migrated`.catch((err: Error) => {
  log(`cannot reach DATABASE_URL: ${err.message}`)
  process.exit(1)
})
if (!migrated) {
  log('the database lacks the migrations: apply them first (supabase db push, or npm run migrate with DATABASE_URL)')
  process.exit(1)
}

const dashboard = await loadDashboard(config, log)
const maintenance = startMaintenance(sql, { retentionDays: config.retentionDays, log })
const alerts = startAlerts({ sql, ...config.alerts, log })

/** What `npm start` serves beside the dashboard, answered as the functions answer an unknown route. */
const NOT_HERE = /^\/(functions|local-auth)(\/|$|\?)/
const server = createServer((req, res) => {
  if (NOT_HERE.test(req.url ?? '')) {
    const traceId = crypto.randomUUID().replaceAll('-', '')
    const answer = errorResponse('not_found', 'npm run dashboard serves the dashboard only: the functions run on Supabase', traceId)
    res.writeHead(answer.status, Object.fromEntries(answer.headers))
    return void answer.text().then((body) => res.end(body))
  }
  dashboard(req, res, () => { res.statusCode = 404; res.end('not found') })
})
await new Promise<void>((resolve) => server.listen(settings.port, settings.host, resolve))
const { port } = server.address() as { port: number }
console.log(`streamscope dashboard is up on http://${settings.host}:${port}/ (${production ? 'production' : 'development'}; DATABASE_URL)`)
if (config.operatorToken === DEV_OPERATOR_TOKEN) console.log(`  operator token  ${DEV_OPERATOR_TOKEN} (development default; set OPERATOR_TOKEN)`)

async function shutdown() {
  await maintenance.stop()
  await alerts.stop()
  server.closeIdleConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await sql.end({ timeout: 1 })
  process.exit(0)
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())
