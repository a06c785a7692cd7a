import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { createFlagReader } from './flags.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

describe('feature flags', () => {
  it('are seeded with chat_transport = sse and keep a history of who changed what', async () => {
    expect(await db.sql`select value, updated_by from public.feature_flags where key = 'chat_transport'`)
      .toEqual([{ value: 'sse', updated_by: 'migration' }])
    await db.sql`update public.feature_flags set value = 'http', updated_by = 'ops@example.com' where key = 'chat_transport'`
    await db.sql`update public.feature_flags set updated_at = updated_at where key = 'chat_transport'` // no change of value: no history row
    await db.sql`update public.feature_flags set value = 'sse' where key = 'chat_transport'` // nobody said who: the role
    const history = await db.sql`select old_value, new_value, changed_by from public.feature_flag_changes where key = 'chat_transport' order by id`
    expect(history).toEqual([
      { old_value: null, new_value: 'sse', changed_by: 'migration' },
      { old_value: 'sse', new_value: 'http', changed_by: 'ops@example.com' },
      { old_value: 'http', new_value: 'sse', changed_by: expect.any(String) },
    ])
    expect(history[2].changed_by).not.toBe('ops@example.com')
  })

  it('refuse a chat_transport value the functions would not understand', async () => {
    await expect(db.sql`update public.feature_flags set value = 'websocket' where key = 'chat_transport'`).rejects.toThrow(/chat_transport_value/)
  })

  it('are invisible to clients', async () => {
    for (const role of ['anon', 'authenticated']) {
      for (const table of ['feature_flags', 'feature_flag_changes']) {
        await expect(db.sql.begin(async (tx) => {
          await tx.unsafe(`set local role ${role}`)
          await tx.unsafe(`select * from public.${table}`)
        })).rejects.toThrow(/permission denied/)
      }
    }
  })

  it('are read through a short cache: one query per ttl, a flip seen after it', async () => {
    let queries = 0
    const counting = postgres(db.url, { max: 1, onnotice: () => {}, debug: (_c: number, q: string) => { if (q.includes('feature_flags')) queries++ } })
    try {
      const flags = createFlagReader(counting, 60_000)
      const values = await Promise.all(Array.from({ length: 10 }, () => flags.get('chat_transport', 'sse')))
      expect(new Set(values)).toEqual(new Set(['sse']))
      expect(queries).toBe(1)
      await db.sql`update public.feature_flags set value = 'http' where key = 'chat_transport'`
      expect(await flags.get('chat_transport', 'sse')).toBe('sse') // still cached
      const fresh = createFlagReader(counting, 0)
      expect(await fresh.get('chat_transport', 'sse')).toBe('http')
      expect(await fresh.get('no_such_flag', 'fallback')).toBe('fallback')
    } finally {
      await db.sql`update public.feature_flags set value = 'sse' where key = 'chat_transport'`
      await counting.end()
    }
  })

  it('keep the last known value when the database cannot be read', async () => {
    const broken = postgres('postgres://nobody@127.0.0.1:9/none', { max: 1, connect_timeout: 1, onnotice: () => {} })
    const errors: unknown[] = []
    const flags = createFlagReader(broken, 0, (e) => errors.push(e))
    expect(await flags.get('chat_transport', 'sse')).toBe('sse')
    expect(errors).toHaveLength(1)
    await broken.end()
  })
})
