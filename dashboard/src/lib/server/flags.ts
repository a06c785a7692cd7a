// The backout switch (runbook: "toggle if SSE instability detected").
import type { FlagChange, FlagState } from '../types.ts'
import type { Db } from './rollups.ts'

export const TRANSPORT_FLAG = 'chat_transport'
export const TRANSPORTS = ['sse', 'http'] as const
export type Transport = (typeof TRANSPORTS)[number]

type Dated<T, K extends keyof T> = Omit<T, K> & { [P in K]: Date | null }

export async function getFlag(sql: Db, key: string): Promise<FlagState | null> {
  const [row] = await sql<Dated<FlagState, 'updated_at'>[]>`
    select key, value, updated_at, updated_by from public.feature_flags where key = ${key}`
  return row ? { ...row, updated_at: row.updated_at?.toISOString() ?? null } : null
}

export async function flagHistory(sql: Db, key: string, limit = 20): Promise<FlagChange[]> {
  const rows = await sql<Dated<FlagChange, 'changed_at'>[]>`
    select key, old_value, new_value, changed_by, changed_at
    from public.feature_flag_changes
    where key = ${key}
    order by changed_at desc, id desc
    limit ${limit}`
  return rows.map((r) => ({ ...r, new_value: r.new_value ?? '', changed_at: (r.changed_at ?? new Date(0)).toISOString() }))
}

/**
 * Through telemetry.set_feature_flag: the only write the dashboard's role may do. The history
 * records the person: their name (an e-mail address for an account) and, for an operator
 * signed in with their Supabase account, their user id.
 */
export async function setFlag(sql: Db, key: string, value: string, changedBy: string, changedByUserId: string | null = null): Promise<FlagState> {
  const [row] = await sql<Dated<FlagState, 'updated_at'>[]>`
    select key, value, updated_at, updated_by from telemetry.set_feature_flag(${key}, ${value}, ${changedBy}, ${changedByUserId}::uuid)`
  if (!row) throw new Error(`flag ${key} was not updated`)
  return { ...row, updated_at: row.updated_at?.toISOString() ?? null }
}
