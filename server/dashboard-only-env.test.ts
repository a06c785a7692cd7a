import { expect, it } from 'vitest'
import { dashboardOnlySettings } from './dashboard-only-env.ts'
import { DEV_OPERATOR_TOKEN } from './dev-defaults.ts'

const DATABASE_URL = 'postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres'

it('takes the development token in development only, and needs a way in and a session-keeping database in production', () => {
  expect(dashboardOnlySettings({ DATABASE_URL }, []).env.OPERATOR_TOKEN).toBe(DEV_OPERATOR_TOKEN)
  const prod = dashboardOnlySettings({ DATABASE_URL, NODE_ENV: 'production', SUPABASE_URL: 'https://ref.supabase.co' }, [])
  expect(prod).toMatchObject({ production: true, databaseUrl: DATABASE_URL })
  expect(prod.env.OPERATOR_TOKEN).toBeUndefined()
  expect(() => dashboardOnlySettings({ DATABASE_URL }, ['--production'])).toThrow(/nobody could sign in/)
  expect(() => dashboardOnlySettings({}, [])).toThrow(/DATABASE_URL is required/)
  expect(() => dashboardOnlySettings({ DATABASE_URL: DATABASE_URL.replace(':5432', ':6543') }, [])).toThrow(/transaction pooler/)
})
