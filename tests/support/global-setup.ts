import type { TestProject } from 'vitest/node'
import postgres from 'postgres'
import { migrate } from '../../shared/db/migrate.ts'
import { openDatabase } from '../../server/database.ts'
import { readMigrations } from '../../server/migrations.ts'
import { findPgBin, startCluster } from './pg-cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL (database `postgres`) of the test cluster. */
    pgUrl: string
    /** A database with every migration applied, to clone per test file. */
    templateDb: string
    /** 'postgres' normally; 'pglite' only where no PostgreSQL server is installed. */
    pgKind: 'postgres' | 'pglite'
  }
}

export default async function setup(project: TestProject) {
  const bin = findPgBin()
  if (!bin) {
    console.warn('\n[tests] NOTICE: no PostgreSQL server installed; falling back to PGlite (apt-get install postgresql-15 for the real thing)\n')
    const db = await openDatabase(undefined, `.tmp/pglite-test-${process.pid}`)
    await migrate(db.sql, await readMigrations())
    project.provide('pgUrl', db.url)
    project.provide('templateDb', 'postgres')
    project.provide('pgKind', 'pglite')
    return () => db.close()
  }
  const cluster = await startCluster(bin)
  const admin = postgres(cluster.url, { max: 1, onnotice: () => {} })
  await admin`create database streamscope_template`
  const template = postgres(cluster.url.replace(/\/postgres$/, '/streamscope_template'), { max: 1, onnotice: () => {} })
  await migrate(template, await readMigrations())
  await template.end()
  await admin.end()
  project.provide('pgUrl', cluster.url)
  project.provide('templateDb', 'streamscope_template')
  project.provide('pgKind', 'postgres')
  process.env.STREAMSCOPE_TEST_PG_BIN = bin
  return () => cluster.destroy()
}
