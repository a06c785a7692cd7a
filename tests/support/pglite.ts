// PGlite with pgvector, for the one suite that proves the pgvector build of the schema (the test
// cluster and the embedded default have no pgvector). PGlite is one connection underneath: the
// socket server takes one client, and postgres.js keeps to it.
import { mkdir } from 'node:fs/promises'
import postgres, { type Sql } from 'postgres'
import { CLIENT_OPTIONS } from '../../shared/db/client-options.ts'

export interface PgliteDatabase {
  sql: Sql
  close(): Promise<void>
}

export async function openPglite(dataDir: string): Promise<PgliteDatabase> {
  const [{ PGlite }, { vector }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite-socket'),
  ])
  await mkdir(dataDir, { recursive: true })
  const db = await PGlite.create({ dataDir, extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 })
  await server.start()
  const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address()
  const sql = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, ...CLIENT_OPTIONS })
  return {
    sql,
    async close() {
      await sql.end({ timeout: 5 })
      await server.stop()
      await db.close()
    },
  }
}
