import { expect, it } from 'vitest'
import { readServerConfig } from './config.ts'
import { DEV_JWT_SECRET, DEV_OPERATOR_TOKEN } from './dev-defaults.ts'

it('runs with the development credentials and the demo unless told otherwise', () => {
  const c = readServerConfig({})
  expect(c).toMatchObject({ port: 54321, host: '127.0.0.1', demo: true, localDbDir: '.data/postgres', localAuth: true })
  expect(c.functions).toMatchObject({ jwtSecret: DEV_JWT_SECRET, consoleLevel: 'warn', simulated: { failureRate: 0.02, midStreamFailureRate: 0.02 } })
  expect(c.dashboard).toMatchObject({ operatorToken: DEV_OPERATOR_TOKEN, auth: { jwtSecret: DEV_JWT_SECRET }, databaseUrl: '' })
})

it('takes the environment over the defaults, an empty value included', () => {
  const c = readServerConfig({ DEMO: '0', JWT_SECRET: 's'.repeat(32), OPERATOR_TOKEN: '', PORT: '8080', SIM_FAILURE_RATE: '0.5', LOCAL_AUTH: '0' })
  expect(c).toMatchObject({ port: 8080, demo: false, localAuth: false, dashboard: { operatorToken: '' } })
  expect(c.functions).toMatchObject({ consoleLevel: 'info', simulated: { failureRate: 0.5, midStreamFailureRate: 0 } })
  expect(readServerConfig({ DEMO: '0' }).functions.simulated.failureRate).toBe(0)
})

it('lists the functions\', the dashboard\'s and the server\'s problems together', () => {
  let message = ''
  try {
    readServerConfig({ JWT_SECRET: 'short', SLO_TARGET: '2', PORT: 'http', TELEMETRY_RETENTION_DAYS: '0' })
  } catch (err) { message = (err as Error).message }
  for (const part of ['JWT_SECRET must be at least 32 characters', 'SLO_TARGET must be a number between 0 and 1', 'PORT must be an integer', 'TELEMETRY_RETENTION_DAYS must be']) {
    expect(message).toContain(part)
  }
})
