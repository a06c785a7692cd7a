import type { Sql } from 'postgres'
import { transaction } from './transaction.ts'

export interface MigrationFile {
  version: string
  name: string
  sql: string
}

const FILE_NAME = /^(\d+)_(.+)\.sql$/

/** Parses `<version>_<name>.sql`, the naming the Supabase CLI uses, so both tools share one folder. */
export function toMigrationFile(fileName: string, sql: string): MigrationFile {
  const m = FILE_NAME.exec(fileName)
  if (!m) throw new Error(`migration file name must look like <digits>_<name>.sql: ${fileName}`)
  return { version: m[1], name: m[2], sql }
}

/**
 * Applies pending migrations in version order, each in its own transaction.
 * Bookkeeping uses supabase_migrations.schema_migrations, the table the Supabase
 * CLI reads, so `npm run migrate` and `supabase migration up` agree on what ran.
 * An advisory lock makes concurrent runners wait instead of racing.
 */
export async function migrate(sql: Sql, files: MigrationFile[]): Promise<string[]> {
  await sql.unsafe(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (
      version text primary key, statements text[], name text
    );`).simple()
  const applied: string[] = []
  const sorted = [...files].sort((a, b) => a.version.localeCompare(b.version))
  for (const file of sorted) {
    const done = await transaction(sql, async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('streamscope.migrate'))`
      const [row] = await tx`select 1 from supabase_migrations.schema_migrations where version = ${file.version}`
      if (row) return false
      await tx.unsafe(file.sql).simple()
      await tx`insert into supabase_migrations.schema_migrations (version, name, statements)
               values (${file.version}, ${file.name}, ${[file.sql]})`
      return true
    })
    if (done) applied.push(`${file.version}_${file.name}`)
  }
  return applied
}
