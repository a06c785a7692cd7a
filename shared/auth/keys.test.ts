import { expect, it } from 'vitest'
import { JWKS_PATH, projectKeysFromEnv } from './keys.ts'

const key = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }

it('finds the keys as Supabase hands them to a function: SUPABASE_JWKS, the JWKS under SUPABASE_URL, JWT_SECRET', () => {
  const { keys, problems } = projectKeysFromEnv({ SUPABASE_URL: 'https://ref.supabase.co/', SUPABASE_JWKS: JSON.stringify({ keys: [key] }) })
  expect(problems).toEqual([])
  expect(keys).toEqual({ jwtSecret: '', jwksUrl: `https://ref.supabase.co${JWKS_PATH}`, jwks: { keys: [key] } })
  // A bare array is Supabase's other documented form; JWKS_URL wins over the derived URL.
  expect(projectKeysFromEnv({ SUPABASE_JWKS: JSON.stringify([key]), JWKS_URL: 'http://127.0.0.1:1/keys', SUPABASE_URL: 'https://ref.supabase.co' }).keys)
    .toMatchObject({ jwksUrl: 'http://127.0.0.1:1/keys', jwks: { keys: [key] } })
  // A project still on the legacy secret: an empty key set is no key set.
  expect(projectKeysFromEnv({ JWT_SECRET: 's'.repeat(32), SUPABASE_JWKS: '{"keys":[]}' })).toEqual({ keys: { jwtSecret: 's'.repeat(32), jwksUrl: '', jwks: null }, problems: [] })
})

it('lists what is wrong, and that something must verify tokens', () => {
  expect(projectKeysFromEnv({}).problems).toEqual([expect.stringMatching(/JWT_SECRET, SUPABASE_JWKS, JWKS_URL or SUPABASE_URL is required/)])
  expect(projectKeysFromEnv({ JWT_SECRET: 'short', SUPABASE_URL: 'ftp://x', SUPABASE_JWKS: '{' }).problems).toEqual([
    'JWT_SECRET must be at least 32 characters',
    'SUPABASE_URL must be an http(s) URL, got "ftp://x"',
    'SUPABASE_JWKS must be a JSON Web Key Set ({"keys": [...]}), and is not JSON',
  ])
  expect(projectKeysFromEnv({ JWT_SECRET: 's'.repeat(32), SUPABASE_JWKS: '{"keys":[{"kid":"no kty"}]}' }).problems).toEqual([expect.stringMatching(/keys with a "kty"/)])
})
