import { expect, it } from 'vitest'
import { readDashboardConfig } from './dashboard-config.ts'
import { dashboardConfig, provideDashboardConfig } from './dashboard-handoff.ts'

it('fills the documented defaults: no token, no accounts, alerts on the banner only, the database\'s retention', () => {
  expect(readDashboardConfig({})).toEqual({
    databaseUrl: '', operatorToken: '', signInFailures: { perAddress: 10, global: 100 },
    auth: { jwtSecret: '', jwksUrl: '', jwks: null, jwtAudience: 'authenticated', supabaseUrl: '', anonKey: '' },
    sloTarget: 0.995, chatTransportOverride: '',
    alerts: { webhookUrl: '', webhookFormat: 'json', seed: { errorRate: 0.05, dailySpend: null, windowMinutes: 5, minRequests: 20 }, intervalMs: 30_000 },
    retentionDays: undefined,
  })
})

it('reads accounts as the functions read their keys, and "off" for an alert rule', () => {
  const c = readDashboardConfig({
    SUPABASE_URL: 'https://ref.supabase.co/', SUPABASE_ANON_KEY: 'anon', SLO_TARGET: ' 0.99 ', ALERT_ERROR_RATE: 'off',
    ALERT_DAILY_SPEND_USD: '50', TELEMETRY_RETENTION_DAYS: '9', OPERATOR_SIGNIN_FAILURES_TOTAL: '7', CHAT_TRANSPORT: 'http',
  })
  expect(c).toMatchObject({
    auth: { jwksUrl: 'https://ref.supabase.co/auth/v1/.well-known/jwks.json', supabaseUrl: 'https://ref.supabase.co', anonKey: 'anon' },
    sloTarget: 0.99, alerts: { seed: { errorRate: null, dailySpend: 50 } }, retentionDays: 9,
    signInFailures: { perAddress: 10, global: 7 }, chatTransportOverride: 'http',
  })
})

it('lists every bad value at once', () => {
  let message = ''
  try {
    readDashboardConfig({
      SLO_TARGET: '1', ALERT_ERROR_RATE: '5', ALERT_DAILY_SPEND_USD: '-1', ALERT_WINDOW_MINUTES: 'off', ALERT_INTERVAL_MS: '10',
      TELEMETRY_RETENTION_DAYS: 'a week', OPERATOR_SIGNIN_FAILURES_PER_ADDRESS: '0', CHAT_TRANSPORT: 'ws',
    })
  } catch (err) { message = (err as Error).message }
  for (const part of [
    'SLO_TARGET must be a number between 0 and 1 (e.g. 0.995), got "1"', 'ALERT_ERROR_RATE must be a share in (0, 1] (or "off"), got "5"',
    'ALERT_DAILY_SPEND_USD must be a number of USD above 0', 'ALERT_WINDOW_MINUTES must be an integer in [1, 1440], got "off"',
    'ALERT_INTERVAL_MS must be an integer in [1000', 'TELEMETRY_RETENTION_DAYS must be an integer in [1,',
    'OPERATOR_SIGNIN_FAILURES_PER_ADDRESS must be an integer in [1,', 'CHAT_TRANSPORT must be one of , sse, http, got "ws"',
  ]) expect(message).toContain(part)
})

it('is handed to the dashboard once, and the dashboard says so when it was not', () => {
  expect(() => dashboardConfig()).toThrow(/no configuration/)
  const config = readDashboardConfig({ DATABASE_URL: 'postgres://x@db/postgres' })
  provideDashboardConfig(config)
  expect(dashboardConfig()).toBe(config)
})
