import { expect, it } from 'vitest'
import { dashboardOnlySettings } from './dashboard-only-env.ts'
import { DEV_OPERATOR_TOKEN } from './dev-defaults.ts'

const DATABASE_URL = 'postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres'

it('takes the development token in development only, and needs a way in and a session-keeping database in production', () => {
  expect(dashboardOnlySettings({ DATABASE_URL }, []).dashboard.operatorToken).toBe(DEV_OPERATOR_TOKEN)
  const prod = dashboardOnlySettings({ DATABASE_URL, NODE_ENV: 'production', SUPABASE_URL: 'https://ref.supabase.co' }, [])
  expect(prod).toMatchObject({ production: true, port: 54329, dashboard: { databaseUrl: DATABASE_URL, operatorToken: '' } })
  expect(() => dashboardOnlySettings({ DATABASE_URL }, ['--production'])).toThrow(/nobody could sign in/)
  expect(() => dashboardOnlySettings({}, [])).toThrow(/DATABASE_URL is required/)
  expect(() => dashboardOnlySettings({ DATABASE_URL: DATABASE_URL.replace(':5432', ':6543') }, [])).toThrow(/transaction pooler/)
})

it('lists the dashboard\'s bad settings with the refusals', () => {
  const start = () => dashboardOnlySettings({ SLO_TARGET: '1.5', ALERT_ERROR_RATE: '5', TELEMETRY_RETENTION_DAYS: 'a week' }, [])
  for (const part of ['DATABASE_URL is required', 'SLO_TARGET must be a number between 0 and 1', 'ALERT_ERROR_RATE must be', 'TELEMETRY_RETENTION_DAYS must be']) {
    expect(start).toThrow(part)
  }
})
