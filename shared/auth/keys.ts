// Where a Supabase project's token keys are found, read from the environment once. The functions
// (shared/config.ts) and the dashboard (operator-jwt.ts) both read them here, so both accept the
// same tokens.
import type { JSONWebKeySet } from 'jose'

/** Supabase Auth serves the project's public signing keys here, under SUPABASE_URL. */
export const JWKS_PATH = '/auth/v1/.well-known/jwks.json'

export interface ProjectKeys {
  /** HS256: the legacy project secret ('' = HS256 tokens are refused). */
  jwtSecret: string
  /** ES256/RS256: the JWKS endpoint, fetched and cached per process ('' = none). */
  jwksUrl: string
  /** ES256/RS256: the key set handed in whole (SUPABASE_JWKS), checked before jwksUrl. */
  jwks: JSONWebKeySet | null
}

type Env = Record<string, string | undefined>

/**
 * JWT_SECRET for HS256; for the signing keys, SUPABASE_JWKS (the platform injects it into every
 * function) and the JWKS URL: JWKS_URL, else the one under SUPABASE_URL (also injected). The URL
 * is what a key missing from SUPABASE_JWKS is looked up at, so a key added after the isolate
 * started is still found. Problems are returned, not thrown: the caller lists them with its own.
 */
export function projectKeysFromEnv(env: Env): { keys: ProjectKeys; problems: string[] } {
  const problems: string[] = []
  const jwtSecret = env.JWT_SECRET ?? ''
  if (jwtSecret && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters')
  const explicit = httpUrl('JWKS_URL', env.JWKS_URL, problems)
  const base = httpUrl('SUPABASE_URL', env.SUPABASE_URL, problems)
  const jwksUrl = explicit || (base ? `${base}${JWKS_PATH}` : '')
  const jwks = keySet(env.SUPABASE_JWKS, problems)
  if (!jwtSecret && !jwksUrl && !jwks) problems.push('JWT_SECRET, SUPABASE_JWKS, JWKS_URL or SUPABASE_URL is required (to verify user tokens)')
  return { keys: { jwtSecret, jwksUrl, jwks }, problems }
}

function httpUrl(name: string, raw: string | undefined, problems: string[]): string {
  if (!raw) return ''
  try {
    const u = new URL(raw)
    if (u.protocol === 'http:' || u.protocol === 'https:') return raw.replace(/\/+$/, '')
  } catch { /* reported below */ }
  problems.push(`${name} must be an http(s) URL, got "${raw}"`)
  return ''
}

/** `{"keys": [...]}` or a bare `[...]`, as Supabase documents SUPABASE_JWKS; empty = none. */
function keySet(raw: string | undefined, problems: string[]): JSONWebKeySet | null {
  if (!raw?.trim()) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    problems.push('SUPABASE_JWKS must be a JSON Web Key Set ({"keys": [...]}), and is not JSON')
    return null
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys) || !keys.every((k) => k && typeof k === 'object' && typeof (k as { kty?: unknown }).kty === 'string')) {
    problems.push('SUPABASE_JWKS must be a JSON Web Key Set: {"keys": [...]} of keys with a "kty"')
    return null
  }
  return keys.length ? { keys } : null
}
