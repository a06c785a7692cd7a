// What `npm run dashboard` (server/dashboard-only.ts) runs with: the dashboard alone against a
// database someone else migrates (a Supabase project's), never with the published development
// credentials outside development.
import { dashboardSettings, type DashboardConfig } from '../shared/dashboard-config.ts'
import { createEnvReader, withDefaults, type Env } from '../shared/env-reader.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from './dev-defaults.ts'

export interface DashboardOnlySettings {
  production: boolean
  /** What the dashboard runs with, development defaults applied; its databaseUrl is set. */
  dashboard: DashboardConfig
  port: number
  host: string
}

/** Transaction-mode poolers (Supavisor's 6543) keep no session: the dashboard's prepared statements need one. */
const TRANSACTION_POOLER_PORT = '6543'

/** Production: NODE_ENV=production or `--production`. Throws with every problem listed. */
export function dashboardOnlySettings(processEnv: Env, argv: string[]): DashboardOnlySettings {
  const production = processEnv.NODE_ENV === 'production' || argv.includes('--production')
  const env = production ? processEnv : withDefaults(processEnv, { OPERATOR_TOKEN: DEV_OPERATOR_TOKEN })
  const reader = createEnvReader(env)
  const { problems } = reader
  const dashboard = dashboardSettings(reader)
  const port = reader.num('PORT', 54329, 0, 65_535)
  if (!dashboard.databaseUrl) problems.push('DATABASE_URL is required: the project\'s database, direct or through the session pooler (docs/dashboard.md, "On Supabase")')
  else if (portOf(dashboard.databaseUrl) === TRANSACTION_POOLER_PORT) {
    problems.push('DATABASE_URL is a transaction pooler (port 6543), which keeps no session for the dashboard\'s prepared statements: use the session pooler (the pooler host, port 5432) or the direct connection')
  }
  if (production) {
    if (env.OPERATOR_TOKEN === DEV_OPERATOR_TOKEN) problems.push('OPERATOR_TOKEN is the published development token: set your own (openssl rand -base64 32), or unset it for accounts only')
    if (env.JWT_SECRET === DEV_JWT_SECRET) problems.push('JWT_SECRET is the published development secret: set the project\'s, or unset it (signing keys are found under SUPABASE_URL)')
    if (!env.OPERATOR_TOKEN && !env.JWT_SECRET && !env.SUPABASE_URL && !env.SUPABASE_JWKS && !env.JWKS_URL) {
      problems.push('nobody could sign in: set OPERATOR_TOKEN, or SUPABASE_URL (and SUPABASE_ANON_KEY) for operator accounts')
    }
  }
  if (problems.length) throw new Error(`npm run dashboard cannot start${production ? ' (production)' : ''}:\n  - ${[...new Set(problems)].join('\n  - ')}`)
  return { production, dashboard, port, host: env.HOST ?? '127.0.0.1' }
}

function portOf(url: string): string {
  try {
    return new URL(url).port
  } catch {
    return ''
  }
}
