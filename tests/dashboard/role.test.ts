// The dashboard's database role (migrations/20261125000400_dashboard_access.sql): it reads
// telemetry, messages and flags, writes nothing but the chat_transport flag through
// telemetry.set_feature_flag, and the flag history records who switched it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ISql } from 'postgres'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase

beforeAll(async () => {
  db = await freshDatabase()
})

afterAll(async () => {
  await db?.drop()
})

/** As dashboard/src/lib/server/db.ts does it: a transaction with the role set locally. */
function asDashboard<T>(run: (sql: ISql) => Promise<T>, mode: 'read only' | 'read write' = 'read write'): Promise<T> {
  return db.sql.begin(mode, async (tx) => {
    await tx`select set_config('role', 'streamscope_dashboard', true)`
    return run(tx)
  }) as Promise<T>
}

const code = async (run: (sql: ISql) => Promise<unknown>) => {
  try {
    await asDashboard(run)
    return 'ok'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

describe('streamscope_dashboard', () => {
  it('reads telemetry, rollups, prices, messages and flags', async () => {
    const reads = await asDashboard(async (sql) => {
      await sql`select count(*) from telemetry.spans`
      await sql`select count(*) from telemetry.logs`
      await sql`select telemetry.hist_quantile(telemetry.hist_sum(ttfb_hist), 0.5) from telemetry.rollup_minute`
      await sql`select count(*) from telemetry.model_prices`
      await sql`select count(*) from public.messages`
      const [flag] = await sql<{ value: string }[]>`select value from public.feature_flags where key = 'chat_transport'`
      const history = await sql`select * from public.feature_flag_changes`
      return { flag: flag?.value, history: history.length }
    }, 'read only')
    // RLS is on for flags and messages: the role sees them through its own policies.
    expect(reads.flag).toBe('sse')
    expect(reads.history).toBeGreaterThan(0)
  })

  it('cannot write telemetry, messages or flags directly', async () => {
    const now = new Date()
    expect(await code((sql) => sql`insert into telemetry.spans (trace_id, span_id, name, kind, start_time, end_time, duration_ms)
      values (${'a'.repeat(32)}, ${'b'.repeat(16)}, 'x', 'server', ${now}, ${now}, 1)`)).toBe('42501')
    expect(await code((sql) => sql`insert into telemetry.logs (time, level, message) values (${now}, 'info', 'x')`)).toBe('42501')
    expect(await code((sql) => sql`delete from telemetry.rollup_minute`)).toBe('42501')
    expect(await code((sql) => sql`insert into public.messages (session_id, user_id, role, content)
      values (gen_random_uuid(), gen_random_uuid(), 'user', 'x')`)).toBe('42501')
    expect(await code((sql) => sql`update public.feature_flags set value = 'http'`)).toBe('42501')
    expect(await code((sql) => sql`insert into telemetry.model_prices values ('x', now(), 1, 1)`)).toBe('42501')
    expect(await code((sql) => sql`select telemetry.ensure_partitions(current_date + 30, current_date + 31)`)).toBe('42501')
  })

  it('switches chat_transport through set_feature_flag, recording who, even twice in a row', async () => {
    await asDashboard((sql) => sql`select * from telemetry.set_feature_flag('chat_transport', 'http', 'alice')`)
    await asDashboard((sql) => sql`select * from telemetry.set_feature_flag('chat_transport', 'sse', 'alice')`)
    const history = await db.sql<{ old_value: string | null; new_value: string; changed_by: string }[]>`
      select old_value, new_value, changed_by from public.feature_flag_changes where key = 'chat_transport' order by id`
    expect(history.slice(-2)).toEqual([
      { old_value: 'sse', new_value: 'http', changed_by: 'alice' },
      { old_value: 'http', new_value: 'sse', changed_by: 'alice' },
    ])
  })

  it('refuses unknown flags, values and anonymous switches', async () => {
    expect(await code((sql) => sql`select * from telemetry.set_feature_flag('chat_transport', 'ws', 'alice')`)).toBe('22023')
    expect(await code((sql) => sql`select * from telemetry.set_feature_flag('other', 'http', 'alice')`)).toBe('22023')
    expect(await code((sql) => sql`select * from telemetry.set_feature_flag('chat_transport', 'http', '  ')`)).toBe('22023')
  })

  it('is not granted to client roles', async () => {
    const [row] = await db.sql<{ anon: boolean; authed: boolean }[]>`
      select has_function_privilege('anon', 'telemetry.set_feature_flag(text, text, text)', 'execute') as anon,
             has_function_privilege('authenticated', 'telemetry.set_feature_flag(text, text, text)', 'execute') as authed`
    expect(row).toEqual({ anon: false, authed: false })
  })
})
