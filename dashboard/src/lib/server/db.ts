import { env } from '$env/dynamic/private'
import postgres, { type Sql } from 'postgres'

/** A failure to reach or read the telemetry database, shown to the operator as is. */
export class DatabaseError extends Error {
  override name = 'DatabaseError'
}

let client: Sql | undefined

/**
 * The shared read-only client, created on first use: the outer server sets DATABASE_URL
 * before it imports the handler, and may point it at PGlite, which is one connection
 * underneath, so the pool stays small.
 */
export function db(): Sql {
  if (client) return client
  const url = env.DATABASE_URL
  if (!url) throw new DatabaseError('DATABASE_URL is not set on the server')
  client = postgres(url, { max: 2, idle_timeout: 30, connect_timeout: 10, onnotice: () => {} })
  return client
}

/** Runs queries on the shared client; any failure becomes a DatabaseError with a readable message. */
export async function readTelemetry<T>(run: (sql: Sql) => Promise<T>): Promise<T> {
  try {
    return await run(db())
  } catch (err) {
    const failure = err instanceof DatabaseError
      ? err
      : new DatabaseError(`could not read telemetry: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    console.error(`[dashboard] ${failure.message}`)
    throw failure
  }
}
