import { errors, jwtVerify, SignJWT } from 'jose'

export interface VerifiedUser {
  userId: string
  claims: Record<string, unknown>
}

export class AuthError extends Error {}

const encoder = new TextEncoder()

/** Verifies a Supabase user access token (HS256 with the project's JWT secret). */
export function createJwtVerifier(secret: string, audience: string) {
  const key = encoder.encode(secret)
  return async function verify(authorization: string | null): Promise<VerifiedUser> {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')
    if (!m) throw new AuthError('missing bearer token')
    try {
      const { payload } = await jwtVerify(m[1], key, { algorithms: ['HS256'], audience })
      if (typeof payload.sub !== 'string' || !payload.sub) throw new AuthError('token has no sub claim')
      return { userId: payload.sub, claims: payload as Record<string, unknown> }
    } catch (err) {
      if (err instanceof AuthError) throw err
      if (err instanceof errors.JWTExpired) throw new AuthError('token expired')
      if (err instanceof errors.JWTClaimValidationFailed) throw new AuthError(`token claim "${err.claim}" is invalid`)
      throw new AuthError('invalid token')
    }
  }
}

/** Signs a user token shaped like Supabase's (role authenticated, aud authenticated). */
export function signUserToken(secret: string, sub: string, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(encoder.encode(secret))
}
