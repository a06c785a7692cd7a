// Operators as Supabase users: their access token, verified as the functions verify a user's
// (shared/auth/jwt.ts, with the keys found as shared/auth/keys.ts finds them: HS256 with
// JWT_SECRET, ES256/RS256 from SUPABASE_JWKS or the JWKS under SUPABASE_URL), and a role from
// the allow-list table or the token's app_metadata.
import { AuthError, createJwtVerifier, type AuthSettings } from '$shared/auth/jwt'
import type { OperatorAuthConfig } from '$shared/dashboard-config'
import { isOperatorRole, type Operator, type OperatorRole } from './operators.ts'

/** Where a role is read in the token: app_metadata is set by the project's admins only (user_metadata is the user's own). */
export const ROLE_CLAIM = 'streamscope_role'

/** Read with the dashboard's other settings (shared/dashboard-config.ts). */
export type OperatorAuthSettings = OperatorAuthConfig

/** Accounts can sign in at all: something verifies their tokens. */
export function accountsEnabled(s: OperatorAuthSettings): boolean {
  return Boolean(s.jwtSecret || s.jwksUrl || s.jwks)
}

export function passwordSignInEnabled(s: OperatorAuthSettings): boolean {
  return accountsEnabled(s) && Boolean(s.supabaseUrl && s.anonKey)
}

/** Signed in as a real user, who is not on the dashboard's list: 403, not 401. */
export class NotAnOperatorError extends Error {}

export function roleFromClaims(claims: Record<string, unknown>): OperatorRole | null {
  const meta = claims.app_metadata
  const role = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)[ROLE_CLAIM] : undefined
  return isOperatorRole(role) ? role : null
}

export type AllowList = (userId: string, email: string | null) => Promise<OperatorRole | null>

export interface VerifiedOperator {
  operator: Operator
  /** The access token's exp (ms): a Bearer caller's access ends with it. */
  expiresAt: number
}

/**
 * access token → the operator it names. Throws AuthError (401: not a valid user token),
 * AuthUnavailableError (503: the JWKS could not be fetched) or NotAnOperatorError (403).
 * The allow-list's row wins over app_metadata, so SQL can both grant and restrict.
 */
export function createOperatorVerifier(settings: AuthSettings, allowList: AllowList) {
  const verify = createJwtVerifier(settings)
  return async (accessToken: string): Promise<VerifiedOperator> => {
    const { userId, claims } = await verify(`Bearer ${accessToken.trim()}`)
    if (claims.is_anonymous === true) throw new AuthError('anonymous users cannot use the dashboard')
    const email = typeof claims.email === 'string' && claims.email.trim() ? claims.email.trim().toLowerCase() : null
    const role = (await allowList(userId, email)) ?? roleFromClaims(claims)
    if (!role) {
      throw new NotAnOperatorError(
        `${email ?? userId} has no dashboard role: an admin sets app_metadata.${ROLE_CLAIM} to viewer or operator, or adds them to telemetry.operator_accounts`,
      )
    }
    return { operator: { name: email ?? `user ${userId}`, role, userId, email }, expiresAt: Number(claims.exp) * 1000 }
  }
}

/** A Bearer value that is a JWT (three base64url parts) rather than the shared token. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value)
}
