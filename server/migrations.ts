import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { toMigrationFile, type MigrationFile } from '../shared/db/migrate.ts'

export const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url).pathname

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql'))
  return Promise.all(names.map(async (n) => toMigrationFile(n, await readFile(join(dir, n), 'utf8'))))
}
