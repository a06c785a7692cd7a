import postgres, { type Sql } from 'postgres'
import { CLIENT_OPTIONS } from '$shared/db/client-options'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { transaction } from '$shared/db/transaction'
import { enterDashboardRole, type Db } from './rollups'

/** A failure to reach or read the telemetry database, shown to the operator as is. */
export class DatabaseError extends Error {
  override name = 'DatabaseError'
}

let client: Sql | undefined

/** The shared client, created on first use from the URL the Node entry handed over. */
function db(): Sql {
  if (client) return client
  const url = dashboardConfig().databaseUrl
  if (!url) throw new DatabaseError('DATABASE_URL is not set on the server')
  client = postgres(url, { max: 4, idle_timeout: 30, connect_timeout: 10, ...CLIENT_OPTIONS })
  return client
}

function toDatabaseError(err: unknown, doing: string): DatabaseError {
  if (err instanceof DatabaseError) return err
  return new DatabaseError(`could not ${doing}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}

/**
 * Runs queries in one transaction as the read-only dashboard role. `set local` rather than
 * a session-wide `set role`: PGlite behind its socket is one session shared with the
 * functions' own writes, and a transaction is the unit it keeps apart.
 */
async function asDashboard<T>(mode: 'read only' | 'read write', run: (sql: Db) => Promise<T>): Promise<T> {
  return transaction(db(), async (tx) => {
    await enterDashboardRole(tx)
    return run(tx)
  }, mode)
}

/** Reads telemetry; any failure becomes a DatabaseError with a readable message. */
export async function readTelemetry<T>(run: (sql: Db) => Promise<T>): Promise<T> {
  try {
    return await asDashboard('read only', run)
  } catch (err) {
    const failure = toDatabaseError(err, 'read telemetry')
    console.error(`[dashboard] ${failure.message}`)
    throw failure
  }
}

/** The dashboard's one write (a flag, through a security-definer function); errors are the caller's to show. */
export function writeAsDashboard<T>(run: (sql: Db) => Promise<T>): Promise<T> {
  return asDashboard('read write', run)
}
