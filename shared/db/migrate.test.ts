import { inject, afterAll, beforeAll, describe, expect, it } from 'vitest'
import postgres, { type Sql } from 'postgres'
import { migrate, toMigrationFile } from './migrate.ts'
import { readMigrations } from '../../server/migrations.ts'

// A database with nothing in it (not cloned from the migrated template).
let sql: Sql
let admin: Sql
const name = `migrate_${process.pid}_${Date.now().toString(36)}`
beforeAll(async () => {
  admin = postgres(inject('pgUrl'), { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  sql = postgres(inject('pgUrl').replace(/\/postgres$/, `/${name}`), { max: 4, onnotice: () => {} })
})
afterAll(async () => {
  await sql.end()
  await admin.unsafe(`drop database ${name} with (force)`)
  await admin.end()
})

describe('migrate', () => {
  it('applies every file once, in order, recording them where the Supabase CLI looks', async () => {
    const files = await readMigrations()
    const applied = await migrate(sql, files)
    expect(applied).toEqual(files.map((f) => `${f.version}_${f.name}`).sort())
    const rows = await sql`select version, name from supabase_migrations.schema_migrations order by version`
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version).sort())
    expect(await migrate(sql, files)).toEqual([])
  })

  it('two runners at once apply each migration exactly once', async () => {
    const extra = toMigrationFile('99990101000000_counter.sql', 'create table race_probe (id int); insert into race_probe values (1);')
    const files = [...(await readMigrations()), extra]
    const results = await Promise.all([migrate(sql, files), migrate(sql, files)])
    expect(results.flat()).toEqual(['99990101000000_counter'])
    const [{ n }] = await sql`select count(*)::int as n from race_probe`
    expect(n).toBe(1)
  })

  it('creates the product tables, RLS on, and telemetry partitions for today', async () => {
    const tables = await sql`
      select n.nspname || '.' || c.relname as name, c.relrowsecurity as rls
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname in ('public', 'telemetry') and not c.relispartition`
    const byName = Object.fromEntries(tables.map((t) => [t.name, t.rls]))
    for (const t of ['public.messages', 'public.message_embeddings', 'public.document_embeddings']) expect(byName[t]).toBe(true)
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['telemetry.spans', 'telemetry.logs']))
    const [{ n }] = await sql`select count(*)::int as n from pg_inherits where inhparent = 'telemetry.spans'::regclass`
    expect(n).toBeGreaterThanOrEqual(9)
  })

  it('falls back to real[] embeddings where pgvector is missing', async () => {
    const [{ has }] = await sql`select exists (select 1 from pg_available_extensions where name = 'vector') as has`
    const [{ type }] = await sql`select format_type(atttypid, atttypmod) as type from pg_attribute
                                 where attrelid = 'public.document_embeddings'::regclass and attname = 'embedding'`
    expect(type).toBe(has ? 'extensions.vector' : 'real[]')
  })

  it('rejects file names the Supabase CLI would not read', () => {
    expect(() => toMigrationFile('init.sql', '')).toThrow(/<digits>_<name>\.sql/)
  })
})
