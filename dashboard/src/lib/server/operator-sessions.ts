// Server-side operator sessions (migrations/20261204000200_operator_sessions.sql): the
// cookie holds a random id, Postgres holds its hash with who signed in, so logout ends a
// session in every dashboard process at once, and rotating OPERATOR_TOKEN ends them all.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { isOperatorRole, type Operator, type OperatorRole } from './operators.ts'
import type { Db } from './rollups.ts'

export const SESSION_TTL_SECONDS = 12 * 60 * 60
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/

export interface OperatorSession extends Operator {
  /** When the session ends (ms since the epoch), unless it is revoked first. */
  expiresAt: number
}

/** 256 random bits, base64url: what the cookie holds. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url')
}

/** What Postgres keys the session by; null for anything that is not a session id. */
export function sessionIdHash(id: string | undefined | null): Buffer | null {
  if (!id || !SESSION_ID.test(id)) return null
  return createHash('sha256').update(id).digest()
}

/**
 * Sessions belong to the OPERATOR_TOKEN in force when they were opened: a value derived
 * from it (never the token itself) is stored with each, and a session read under another
 * token is no session. '' when no token is configured.
 */
export function tokenEpoch(token: string): string {
  return token === '' ? '' : createHmac('sha256', token).update('streamscope operator session epoch').digest('base64url')
}

export async function openSession(sql: Db, id: string, epoch: string, who: Operator, ttlSeconds = SESSION_TTL_SECONDS): Promise<number> {
  const hash = sessionIdHash(id)
  if (!hash) throw new Error('not a session id')
  const [row] = await sql<{ expires_at: Date }[]>`
    select telemetry.open_operator_session(${hash}, ${epoch}, ${who.name}, ${who.role}, ${who.userId}, ${who.email}, ${ttlSeconds}) as expires_at`
  return row!.expires_at.getTime()
}

export async function readSession(sql: Db, id: string | undefined, epoch: string): Promise<OperatorSession | null> {
  const hash = sessionIdHash(id)
  if (!hash) return null
  const [row] = await sql<{ name: string; role: string; user_id: string | null; email: string | null; expires_at: Date }[]>`
    select name, role, user_id, email, expires_at from telemetry.operator_session(${hash}, ${epoch})`
  if (!row || !isOperatorRole(row.role)) return null
  return { name: row.name, role: row.role, userId: row.user_id, email: row.email, expiresAt: row.expires_at.getTime() }
}

/** Ends one session; false when there was none. */
export async function closeSession(sql: Db, id: string | undefined): Promise<boolean> {
  const hash = sessionIdHash(id)
  if (!hash) return false
  const [row] = await sql<{ closed: boolean }[]>`select telemetry.close_operator_session(${hash}) as closed`
  return row?.closed ?? false
}

/** The role telemetry.operator_accounts gives this user (by id, else by e-mail); null = no row. */
export async function allowListRole(sql: Db, userId: string, email: string | null): Promise<OperatorRole | null> {
  const [row] = await sql<{ role: string | null }[]>`select telemetry.operator_account_role(${userId}, ${email}) as role`
  return isOperatorRole(row?.role) ? row.role : null
}
