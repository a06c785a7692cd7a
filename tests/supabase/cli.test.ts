// The Supabase CLI reads the same migration files (supabase/migrations -> ../migrations)
// and the same bookkeeping table as `npm run migrate`, and its linter finds nothing.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import postgres, { type Sql } from 'postgres'
import { migrate } from '../../shared/db/migrate.ts'
import { readMigrations } from '../../server/migrations.ts'
import { runChild } from '../support/child.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const pg = inject('pgKind') === 'postgres'

async function supabase(...args: string[]) {
  const r = await runChild(`${ROOT}node_modules/.bin/supabase`, args, { cwd: ROOT, env: { ...process.env, DO_NOT_TRACK: '1' } })
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` }
}

const dbs: { name: string; sql: Sql; url: string }[] = []
let admin: Sql
async function emptyDatabase() {
  const name = `cli_${process.pid}_${dbs.length}_${Date.now().toString(36)}`
  await admin.unsafe(`create database ${name}`)
  const url = inject('pgUrl').replace(/\/postgres$/, `/${name}`)
  const db = { name, url, sql: postgres(url, { max: 2, onnotice: () => {} }) }
  dbs.push(db)
  return db
}

beforeAll(() => { if (pg) admin = postgres(inject('pgUrl'), { max: 1, onnotice: () => {} }) })
afterAll(async () => {
  for (const db of dbs) {
    await db.sql.end()
    await admin.unsafe(`drop database ${db.name} with (force)`)
  }
  await admin?.end()
})

describe.skipIf(!pg)('supabase CLI on our migrations', () => {
  it('`supabase migration up` applies the same files; `npm run migrate` then has nothing to do', async () => {
    const db = await emptyDatabase()
    const up = await supabase('migration', 'up', '--db-url', `${db.url}?sslmode=disable`)
    expect(up.status, up.out).toBe(0)
    const files = await readMigrations()
    for (const f of files) expect(up.out).toContain(`${f.version}_${f.name}.sql`)
    expect(await migrate(db.sql, files)).toEqual([])
  })

  it('`supabase migration list` sees what `npm run migrate` applied', async () => {
    const db = await emptyDatabase()
    const files = await readMigrations()
    await migrate(db.sql, files)
    const list = await supabase('migration', 'list', '--db-url', `${db.url}?sslmode=disable`)
    expect(list.status, list.out).toBe(0)
    for (const f of files) expect(list.out).toMatch(new RegExp(`${f.version}\\S*\\s*\\|\\s*\\S*${f.version}`))
  })

  it('`supabase db lint` finds no schema errors', async () => {
    const db = await emptyDatabase()
    await migrate(db.sql, await readMigrations())
    const [{ available }] = await db.sql`select exists (select 1 from pg_available_extensions where name = 'plpgsql_check') as available`
    if (!available && process.env.CI) throw new Error('plpgsql_check is not installed (apt-get install postgresql-15-plpgsql-check)')
    if (!available) return console.warn('[tests] NOTICE: plpgsql_check missing; skipping supabase db lint')
    await db.sql`create extension plpgsql_check`
    const lint = await supabase('db', 'lint', '--db-url', `${db.url}?sslmode=disable`, '--level', 'warning', '--schema', 'public,telemetry,auth')
    expect(lint.status, lint.out).toBe(0)
    expect(lint.out).toContain('No schema errors found')
  })
})
