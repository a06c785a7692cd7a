import postgres, { type Options, type PostgresType, type Sql } from 'postgres'
import { readConfig, type DatabaseConfig, type Env } from '../config.ts'
import { CLIENT_OPTIONS } from './client-options.ts'
import { NO_DELAY_SOCKET } from './pg-socket.ts'

/**
 * The functions' client. An isolate serves a handful of requests at a time and holds a
 * connection only for a statement or a short transaction, so one connection is the default:
 * through a pooler what counts is pooler clients (isolates × max), on a direct URL PostgreSQL
 * backends. An idle isolate gives its connection back after `idleTimeoutSeconds`.
 * Prepared statements are off because any of the URLs may be a transaction pooler (Supavisor
 * on 6543, PgBouncer), which hands each transaction a different server connection.
 */
export function functionsDbOptions(db: DatabaseConfig): Options<Record<string, PostgresType>> {
  return { max: db.maxConnections, idle_timeout: db.idleTimeoutSeconds, prepare: false, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET }
}

/** Opens the functions' database from the environment; a bad or missing setting throws ConfigError with every problem listed. */
export function openFunctionsDatabase(env: Env): Sql {
  const { database } = readConfig(env, { requireDatabase: true })
  return postgres(database.url, functionsDbOptions(database))
}
