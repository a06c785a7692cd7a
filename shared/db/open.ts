import postgres, { type Options, type PostgresType, type Sql } from 'postgres'
import { readConfig, type DatabaseConfig, type Env } from '../config.ts'
import { CLIENT_OPTIONS } from './client-options.ts'
import { NO_DELAY_SOCKET } from './pg-socket.ts'

/** Whether this postgres.js runs sql.begin without pipelining (patches/postgres+3.4.9.patch). */
export const BEGIN_WITHOUT_PIPELINE = (postgres as unknown as { BEGIN_WITHOUT_PIPELINE?: boolean }).BEGIN_WITHOUT_PIPELINE === true
const NO_PIPELINE = BEGIN_WITHOUT_PIPELINE ? { max_pipeline: 0 } : {}

/**
 * The functions' client. An isolate serves a handful of requests at a time and holds a
 * connection only for a statement or a short transaction, so one connection is the default:
 * through a pooler what counts is pooler clients (isolates × max), on a direct URL PostgreSQL
 * backends. An idle isolate gives its connection back after `idleTimeoutSeconds`.
 * Prepared statements are off because any of the URLs may be a transaction pooler (Supavisor
 * on 6543, PgBouncer), which hands each transaction a different server connection.
 *
 * Pipelining is off for the same reason: postgres.js writes a query behind one still running
 * on the connection, and a transaction pooler hands the server connection back at the first
 * query's ReadyForQuery, so the answer to the one behind it never comes: the isolate's queries
 * hang, connection idle (porsager/postgres#970; reproduced through PgBouncer 1.18 by
 * tests/edge/stack.test.ts). postgres.js 3.4.9's sql.begin cannot run without pipelining
 * (#1210); patches/postgres+3.4.9.patch fixes it (upstream #1218) and marks the driver, and a
 * driver without the mark keeps pipelining rather than lose its transactions.
 */
export function functionsDbOptions(db: DatabaseConfig): Options<Record<string, PostgresType>> {
  return { max: db.maxConnections, idle_timeout: db.idleTimeoutSeconds, prepare: false, ...NO_PIPELINE, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET }
}

/** Opens the functions' database from the environment; a bad or missing setting throws ConfigError with every problem listed. */
export function openFunctionsDatabase(env: Env): Sql {
  const { database } = readConfig(env, { requireDatabase: true })
  return postgres(database.url, functionsDbOptions(database))
}
