import { decodeProtectedHeader, errors, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { projectKeySet } from './jwks.ts'
import type { ProjectKeys } from './keys.ts'

export interface VerifiedUser {
  userId: string
  claims: Record<string, unknown>
}

/** The project's keys (shared/auth/keys.ts; no JWKS and no URL = ES256/RS256 tokens are refused). */
export interface AuthSettings extends Omit<ProjectKeys, 'jwks'> {
  jwtAudience: string
  jwks?: ProjectKeys['jwks']
}

/** The token is unacceptable: 401. The message says which check failed (never the token). */
export class AuthError extends Error {}
/** The token could not be checked (JWKS unreachable): 503, the client should retry, not sign in again. */
export class AuthUnavailableError extends Error {}

/** What Supabase signs with: the legacy HS256 secret, or the new ES256/RS256 signing keys. */
const ASYMMETRIC = ['ES256', 'RS256']
/** Seconds a token's exp, nbf and iat may be off by: clocks of the issuer and this host drift. */
export const CLOCK_SKEW_SECONDS = 30
/** The only `role` a user's access token carries; `anon` and `service_role` are API keys, not users. */
const USER_ROLE = 'authenticated'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const encoder = new TextEncoder()

/** Verifies a Supabase user access token as Supabase does: by its `alg`, with the secret or the JWKS. */
export function createJwtVerifier(settings: AuthSettings) {
  const secret = settings.jwtSecret ? encoder.encode(settings.jwtSecret) : undefined
  const jwks = projectKeySet(settings.jwks, settings.jwksUrl)

  const checks = { audience: settings.jwtAudience, requiredClaims: ['exp'], clockTolerance: CLOCK_SKEW_SECONDS }

  return async function verify(authorization: string | null): Promise<VerifiedUser> {
    if (!authorization) throw new AuthError('missing bearer token')
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]
    if (!token) throw new AuthError('authorization header must be "Bearer <token>"')
    let alg: string | undefined
    let kid: string | undefined
    try {
      ({ alg, kid } = decodeProtectedHeader(token))
    } catch {
      throw new AuthError('malformed token')
    }
    if (token.split('.').length !== 3) throw new AuthError('malformed token')
    let payload
    try {
      if (alg === 'HS256') {
        if (!secret) throw new AuthError('HS256 tokens are not accepted here (no JWT secret configured)')
        ;({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], ...checks }))
      } else if (alg && ASYMMETRIC.includes(alg)) {
        if (!jwks) throw new AuthError(`${alg} tokens are not accepted here (no JWKS configured)`)
        ;({ payload } = await jwtVerify(token, jwks, { algorithms: ASYMMETRIC, ...checks }))
      } else {
        throw new AuthError(`token algorithm "${alg ?? 'none'}" is not allowed`)
      }
    } catch (err) {
      throw toAuthError(err, settings.jwtAudience, kid)
    }
    return { userId: userOf(payload), claims: payload as Record<string, unknown> }
  }
}

/** The user a verified payload names, or why it names none. */
function userOf(payload: JWTPayload, now = Date.now() / 1000): string {
  // jose checks iat only against a maximum age; a token from the future is a forged or
  // mis-clocked issuer either way.
  if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_SKEW_SECONDS) throw new AuthError('token iat is in the future')
  if (payload.role !== USER_ROLE) {
    throw new AuthError(`token role is ${typeof payload.role === 'string' ? `"${payload.role.slice(0, 40)}"` : 'missing'}, not "${USER_ROLE}"`)
  }
  if (typeof payload.sub !== 'string' || !payload.sub) throw new AuthError('token has no sub claim')
  if (!UUID.test(payload.sub)) throw new AuthError('token sub is not a user id (UUID)')
  return payload.sub
}

function toAuthError(err: unknown, audience: string, kid: string | undefined): Error {
  if (err instanceof AuthError) return err
  if (err instanceof errors.JWTExpired) return new AuthError('token expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return new AuthError(`token has no ${err.claim} claim`)
    return new AuthError(err.claim === 'aud' ? `token audience is not "${audience}"` : `token claim "${err.claim}" is invalid`)
  }
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError(`no signing key matches the token's kid${kid ? ` "${kid}"` : ''}`)
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('token algorithm is not allowed')
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError('token signature is invalid')
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return new AuthError('malformed token')
  // A plain JOSEError (code ERR_JOSE_GENERIC) is only thrown for a JWKS endpoint that did not
  // answer 200 with JSON; TypeError is fetch failing to connect.
  const jwksDown = err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC'
  if (jwksDown || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof TypeError) {
    return new AuthUnavailableError('signing keys (JWKS) could not be fetched; retry')
  }
  // Whatever else jose throws is about the token (a key of the wrong type, a bad encoding).
  if (err instanceof errors.JOSEError) return new AuthError('invalid token')
  return new AuthUnavailableError('token could not be verified; retry')
}

/** A project signing key, as Supabase Auth holds it (the private half; the JWKS has the public one). */
export interface SigningKey {
  alg: 'ES256' | 'RS256'
  kid: string
  key: CryptoKey | JWK
}

/**
 * Signs a user token shaped like Supabase's (role authenticated, aud authenticated, exp, iat), with
 * the legacy secret (HS256) or a signing key (ES256/RS256, its kid in the header).
 * `claims` adds what Supabase Auth puts beside them (email, app_metadata); it cannot change the role.
 */
export async function signUserToken(
  signer: string | SigningKey, sub: string, ttlSeconds = 3600, claims: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT({ ...claims, role: USER_ROLE })
    .setSubject(sub)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
  if (typeof signer === 'string') return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(encoder.encode(signer))
  const key = 'type' in signer.key ? signer.key : await importJWK(signer.key, signer.alg)
  return jwt.setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' }).sign(key)
}
