// What `npm start` (server/start.ts) runs with: the functions' settings, the dashboard's and the
// server's own, read from one environment and validated together, so a bad value stops the
// server with every problem listed.
import { functionsSettings, type Config } from '../shared/config.ts'
import { dashboardSettings, type DashboardConfig } from '../shared/dashboard-config.ts'
import { createEnvReader, withDefaults, type Env } from '../shared/env-reader.ts'
import { LOCAL_DB_DIR } from './database.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from './dev-defaults.ts'
import { localAuthEnabled } from './local-auth.ts'

export interface ServerConfig {
  functions: Config
  dashboard: DashboardConfig
  port: number
  host: string
  /** DEMO (anything but 0): simulated traffic, and failures in it so the error charts show something. */
  demo: boolean
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset. */
  localDbDir: string
  /** POST /local-auth/token signs users in by e-mail (development only, unless LOCAL_AUTH=1). */
  localAuth: boolean
}

/** What the demo changes, where the environment does not say otherwise. */
const DEMO_DEFAULTS: Env = {
  SIM_FAILURE_RATE: '0.02',
  SIM_MID_STREAM_FAILURE_RATE: '0.02',
  // A few streams a second would bury the banner; the logs table still gets every line.
  LOG_CONSOLE_LEVEL: 'warn',
}

/** Unset JWT_SECRET and OPERATOR_TOKEN are the development defaults (printed at start). */
export function readServerConfig(processEnv: Env): ServerConfig {
  const demo = processEnv.DEMO !== '0'
  const env = withDefaults(processEnv, { JWT_SECRET: DEV_JWT_SECRET, OPERATOR_TOKEN: DEV_OPERATOR_TOKEN, ...(demo ? DEMO_DEFAULTS : {}) })
  const reader = createEnvReader(env)
  const functions = functionsSettings(reader)
  const config: ServerConfig = {
    functions,
    dashboard: dashboardSettings(reader),
    port: reader.num('PORT', 54321, 0, 65_535),
    host: env.HOST ?? '127.0.0.1',
    demo,
    localDbDir: env.LOCAL_DB_DIR ?? LOCAL_DB_DIR,
    localAuth: localAuthEnabled(env, functions.jwtSecret),
  }
  reader.check()
  return config
}
