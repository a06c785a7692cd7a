// span-columns.ts mirrors the table the migrations make: same columns, order, types and NOT NULLs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { ALL_SPAN_COLUMNS, SPAN_COLUMNS, SPAN_NULLS } from './span-columns.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db?.drop() })

describe('span columns', () => {
  it('are telemetry.spans as migrated', async () => {
    const table = await db.sql`
      select a.attname::text as name, format_type(a.atttypid, null) as type, not a.attnotnull as nullable
      from pg_attribute a
      where a.attrelid = 'telemetry.spans'::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`
    const spec = await db.sql`
      select c.name, format_type(c.type::regtype, null) as type, c.nullable
      from unnest(${ALL_SPAN_COLUMNS.map((c) => c.name)}::text[], ${ALL_SPAN_COLUMNS.map((c) => c.type)}::text[],
                  ${ALL_SPAN_COLUMNS.map((c) => String(c.null === true))}::text[]) with ordinality as c(name, type, nullable, n)
      order by n`
    expect(spec.map((c) => ({ ...c, nullable: c.nullable === 'true' }))).toEqual([...table])
  })

  it('send all but the computed ones; a row starts with every one of them null', () => {
    expect(SPAN_COLUMNS).toEqual(ALL_SPAN_COLUMNS.filter((c) => !c.insert).map((c) => c.name))
    expect(SPAN_COLUMNS).not.toContain('cost_usd')
    expect(SPAN_NULLS).toEqual(Object.fromEntries(SPAN_COLUMNS.map((c) => [c, null])))
  })
})
