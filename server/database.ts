import { mkdir } from 'node:fs/promises'
import postgres, { type Sql } from 'postgres'
import { CLIENT_OPTIONS } from '../shared/db/client-options.ts'
import { NO_DELAY_SOCKET } from '../shared/db/pg-socket.ts'

export interface Database {
  sql: Sql
  /** A URL other clients in this process (the dashboard) can connect to. */
  url: string
  kind: 'postgres' | 'pglite'
  close(): Promise<void>
}

/**
 * DATABASE_URL when set; otherwise embedded PGlite in `dataDir`, served on a loopback
 * port so postgres.js (and the dashboard) talk to it exactly as to a real server.
 */
export async function openDatabase(url: string | undefined, dataDir: string): Promise<Database> {
  if (url) {
    const sql = postgres(url, { max: 10, ...CLIENT_OPTIONS, ...NO_DELAY_SOCKET })
    return { sql, url, kind: 'postgres', close: () => sql.end({ timeout: 5 }) }
  }
  const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite-socket'),
  ])
  await mkdir(dataDir, { recursive: true })
  const db = await PGlite.create({ dataDir, extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 })
  await server.start()
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address()
  const pgliteUrl = `postgres://postgres@127.0.0.1:${address.port}/postgres`
  // PGlite is single-connection underneath; a small pool keeps the multiplexer's queue short.
  const sql = postgres(pgliteUrl, { max: 2, ...CLIENT_OPTIONS })
  return {
    sql,
    url: pgliteUrl,
    kind: 'pglite',
    async close() {
      await sql.end({ timeout: 5 })
      await server.stop()
      await db.close()
    },
  }
}
