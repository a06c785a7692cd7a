// What `npm run dashboard` (server/dashboard-only.ts) runs with: the dashboard alone against a
// database someone else migrates (a Supabase project's), never with the published development
// credentials outside development.
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from './dev-defaults.ts'

export interface DashboardOnlySettings {
  production: boolean
  databaseUrl: string
  /** The environment the dashboard reads ($env/dynamic/private), development defaults applied. */
  env: Record<string, string | undefined>
  port: number
  host: string
}

type Env = Record<string, string | undefined>

/** Transaction-mode poolers (Supavisor's 6543) keep no session: the dashboard's prepared statements need one. */
const TRANSACTION_POOLER_PORT = '6543'

/** Production: NODE_ENV=production or `--production`. Throws with every problem listed. */
export function dashboardOnlySettings(env: Env, argv: string[]): DashboardOnlySettings {
  const production = env.NODE_ENV === 'production' || argv.includes('--production')
  const problems: string[] = []
  const databaseUrl = env.DATABASE_URL ?? ''
  if (!databaseUrl) problems.push('DATABASE_URL is required: the project\'s database, direct or through the session pooler (docs/dashboard.md, "On Supabase")')
  else if (portOf(databaseUrl) === TRANSACTION_POOLER_PORT) {
    problems.push('DATABASE_URL is a transaction pooler (port 6543), which keeps no session for the dashboard\'s prepared statements: use the session pooler (the pooler host, port 5432) or the direct connection')
  }
  const out: Env = { ...env }
  if (production) {
    if (env.OPERATOR_TOKEN === DEV_OPERATOR_TOKEN) problems.push('OPERATOR_TOKEN is the published development token: set your own (openssl rand -base64 32), or unset it for accounts only')
    if (env.JWT_SECRET === DEV_JWT_SECRET) problems.push('JWT_SECRET is the published development secret: set the project\'s, or unset it (signing keys are found under SUPABASE_URL)')
    if (!env.OPERATOR_TOKEN && !env.JWT_SECRET && !env.SUPABASE_URL && !env.SUPABASE_JWKS && !env.JWKS_URL) {
      problems.push('nobody could sign in: set OPERATOR_TOKEN, or SUPABASE_URL (and SUPABASE_ANON_KEY) for operator accounts')
    }
  } else {
    out.OPERATOR_TOKEN ??= DEV_OPERATOR_TOKEN
  }
  if (problems.length) throw new Error(`npm run dashboard cannot start${production ? ' (production)' : ''}:\n  - ${problems.join('\n  - ')}`)
  return { production, databaseUrl, env: out, port: Number(env.PORT ?? 54329), host: env.HOST ?? '127.0.0.1' }
}

function portOf(url: string): string {
  try {
    return new URL(url).port
  } catch {
    return ''
  }
}
