// The dashboard finds a project's keys where the functions do (shared/auth/keys.ts): an operator
// signed in with an ES256 access token is verified from SUPABASE_JWKS, or from the JWKS under
// SUPABASE_URL, without a JWKS_URL of its own.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '$shared/auth/jwt'
import { JWKS_PATH } from '$shared/auth/keys'
import { keySetOf, makeSigningKey, startJwksServer, type JwksServer } from '../../../../tests/support/jwks.ts'
import { readDashboardConfig } from '$shared/dashboard-config'
import { accountsEnabled, createOperatorVerifier } from './operator-jwt.ts'

let auth: JwksServer
let key: Awaited<ReturnType<typeof makeSigningKey>>
beforeAll(async () => {
  key = await makeSigningKey('ES256', 'dashboard-es')
  auth = await startJwksServer(keySetOf([key]))
})
afterAll(() => auth.stop())

const operatorToken = () => signUserToken(key, crypto.randomUUID(), 60, { email: 'ops@example.test', app_metadata: { streamscope_role: 'viewer' } })

const operatorAuthSettings = (env: Record<string, string>) => readDashboardConfig(env).auth

it('verifies an ES256 operator token from SUPABASE_JWKS and from the JWKS under SUPABASE_URL', async () => {
  const fromEnv = operatorAuthSettings({ SUPABASE_JWKS: JSON.stringify(keySetOf([key])) })
  const fromUrl = operatorAuthSettings({ SUPABASE_URL: `${auth.origin}/`, SUPABASE_ANON_KEY: 'anon' })
  expect(fromUrl.jwksUrl).toBe(`${auth.origin}${JWKS_PATH}`)
  for (const settings of [fromEnv, fromUrl]) {
    expect(accountsEnabled(settings)).toBe(true)
    const { operator } = await createOperatorVerifier(settings, async () => null)(await operatorToken())
    expect(operator).toMatchObject({ role: 'viewer', email: 'ops@example.test' })
  }
  expect(auth.fetches()).toBe(1)
  expect(accountsEnabled(operatorAuthSettings({}))).toBe(false)
})
