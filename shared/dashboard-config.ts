// The dashboard's settings and those of the housekeeping that runs beside it (alert evaluation and webhook,
// telemetry retention), read from the environment by the Node entry that mounts it (server/config.ts
// for `npm start`, server/dashboard-only-env.ts for `npm run dashboard`) and handed to it
// (shared/dashboard-handoff.ts). The dashboard itself reads no environment.
import type { AuthSettings } from './auth/jwt.ts'
import { projectKeysFromEnv } from './auth/keys.ts'
import { CHAT_TRANSPORTS, DEFAULT_JWT_AUDIENCE, type Config } from './config.ts'
import { WEBHOOK_FORMATS, type AlertThresholds, type WebhookFormat } from './alert-rules.ts'
import { createEnvReader, type Env, type EnvReader } from './env-reader.ts'

export interface DashboardConfig {
  /** DATABASE_URL: what the dashboard connects to ('' = not set; `npm start` hands its own database's). */
  databaseUrl: string
  /** OPERATOR_TOKEN: the shared break-glass login ('' = off, accounts only). */
  operatorToken: string
  /** Failed operator sign-ins allowed per minute: per client address, and from all addresses together. */
  signInFailures: { perAddress: number; global: number }
  auth: OperatorAuthConfig
  /** SLO_TARGET: the share of chat requests that must succeed. */
  sloTarget: number
  /** CHAT_TRANSPORT as the functions read it: the health page says it overrides the flag. */
  chatTransportOverride: Config['chatTransportOverride']
  alerts: AlertsConfig
  /** TELEMETRY_RETENTION_DAYS; undefined = the value in telemetry.settings stands. */
  retentionDays: number | undefined
}

/** Operators as Supabase users: their access tokens verified as the functions verify a user's. */
export interface OperatorAuthConfig extends AuthSettings {
  /** SUPABASE_URL: e-mail + password sign-in goes to its Auth API. */
  supabaseUrl: string
  /** SUPABASE_ANON_KEY (a publishable key works too): the `apikey` of that request. */
  anonKey: string
}

export interface AlertsConfig {
  /** ALERT_WEBHOOK_URL ('' = alerts are only shown on the dashboard). */
  webhookUrl: string
  /** ALERT_WEBHOOK_FORMAT: the body posted there. */
  webhookFormat: WebhookFormat
  /** ALERT_ERROR_RATE and its siblings: the rules written at the database's first server start. */
  seed: AlertThresholds
  /** How often the server evaluates the rules and posts what changed. */
  intervalMs: number
}

/** A number `check` accepts (`range` says which in the problem), or "off" for null; unset or empty: `fallback`. */
function thresholdOrOff(r: EnvReader, key: string, fallback: number | null, check: (n: number) => boolean, range: string): number | null {
  const raw = r.env[key]?.trim()
  if (raw === undefined || raw === '') return fallback
  if (raw === 'off') return null
  const n = Number(raw)
  if (Number.isFinite(n) && check(n)) return n
  r.problems.push(`${key} must be ${range} (or "off"), got "${raw}"`)
  return fallback
}

/** A 0.5% error budget. */
const DEFAULT_SLO_TARGET = 0.995

function sloTarget(r: EnvReader): number {
  const raw = r.env.SLO_TARGET?.trim()
  if (!raw) return DEFAULT_SLO_TARGET
  const n = Number(raw)
  if (Number.isFinite(n) && n > 0 && n < 1) return n
  r.problems.push(`SLO_TARGET must be a number between 0 and 1 (e.g. 0.995), got "${raw}"`)
  return DEFAULT_SLO_TARGET
}

function alertsSettings(r: EnvReader): AlertsConfig {
  return {
    webhookUrl: r.env.ALERT_WEBHOOK_URL ?? '',
    webhookFormat: r.oneOf('ALERT_WEBHOOK_FORMAT', WEBHOOK_FORMATS, 'json'),
    seed: {
      errorRate: thresholdOrOff(r, 'ALERT_ERROR_RATE', 0.05, (n) => n > 0 && n <= 1, 'a share in (0, 1]'),
      dailySpend: thresholdOrOff(r, 'ALERT_DAILY_SPEND_USD', null, (n) => n > 0, 'a number of USD above 0'),
      windowMinutes: r.num('ALERT_WINDOW_MINUTES', 5, 1, 1440),
      minRequests: r.num('ALERT_MIN_REQUESTS', 20, 1, 1_000_000_000),
    },
    intervalMs: r.num('ALERT_INTERVAL_MS', 30_000, 1_000, 86_400_000),
  }
}

/**
 * The dashboard's section of a config, its problems noted in `reader`. A malformed key setting
 * (JWT_SECRET, SUPABASE_JWKS…) only leaves that source off here: the functions' section reports it
 * where the functions run beside the dashboard, and the dashboard alone may run without any.
 */
export function dashboardSettings(r: EnvReader): DashboardConfig {
  const { env } = r
  return {
    databaseUrl: env.DATABASE_URL ?? '',
    operatorToken: env.OPERATOR_TOKEN ?? '',
    signInFailures: {
      perAddress: r.num('OPERATOR_SIGNIN_FAILURES_PER_ADDRESS', 10, 1, 1_000_000),
      global: r.num('OPERATOR_SIGNIN_FAILURES_TOTAL', 100, 1, 1_000_000),
    },
    auth: {
      ...projectKeysFromEnv(env).keys,
      jwtAudience: env.JWT_AUDIENCE || DEFAULT_JWT_AUDIENCE,
      supabaseUrl: (env.SUPABASE_URL ?? '').replace(/\/+$/, ''),
      anonKey: env.SUPABASE_ANON_KEY ?? '',
    },
    sloTarget: sloTarget(r),
    chatTransportOverride: r.oneOf('CHAT_TRANSPORT', CHAT_TRANSPORTS, ''),
    alerts: alertsSettings(r),
    retentionDays: r.optionalNum('TELEMETRY_RETENTION_DAYS', 1, 100_000),
  }
}

/** The dashboard's settings alone; a bad value throws ConfigError with every problem listed. */
export function readDashboardConfig(env: Env): DashboardConfig {
  const reader = createEnvReader(env)
  const config = dashboardSettings(reader)
  reader.check()
  return config
}
