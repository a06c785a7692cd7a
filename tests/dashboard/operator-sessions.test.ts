// The session store on a real Postgres, as the dashboard role uses it (a transaction with
// the role set locally, as db.ts does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ISql } from 'postgres'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { allowListRole, closeSession, newSessionId, openSession, readSession, sessionIdHash, tokenEpoch } from '../../dashboard/src/lib/server/operator-sessions.ts'
import { enterDashboardRole } from '../../dashboard/src/lib/server/rollups.ts'
import type { Operator } from '../../dashboard/src/lib/server/operators.ts'

let db: TestDatabase

beforeAll(async () => {
  db = await freshDatabase()
})

afterAll(async () => {
  await db?.drop()
})

function asDashboard<T>(run: (sql: ISql) => Promise<T>): Promise<T> {
  return db.sql.begin('read write', async (tx) => {
    await enterDashboardRole(tx)
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

const ALICE: Operator = { name: 'alice@example.test', role: 'operator', userId: '0b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d', email: 'alice@example.test' }
const EPOCH = tokenEpoch('a-token-that-is-long-enough-for-the-dashboard')

describe('operator sessions', () => {
  it('opens, reads and closes a session; the cookie value is not what is stored', async () => {
    const id = newSessionId()
    const expiresAt = await asDashboard((sql) => openSession(sql, id, EPOCH, ALICE, 3600))
    expect(expiresAt).toBeGreaterThan(Date.now() + 3000_000)
    expect(await asDashboard((sql) => readSession(sql, id, EPOCH))).toEqual({ ...ALICE, expiresAt })
    const stored = await db.sql<{ id_hash: Buffer }[]>`select id_hash from telemetry.operator_sessions`
    expect(stored.map((r) => r.id_hash.toString('hex'))).toContain(sessionIdHash(id)!.toString('hex'))
    expect(JSON.stringify(await db.sql`select * from telemetry.operator_sessions`)).not.toContain(id)

    expect(await asDashboard((sql) => closeSession(sql, id))).toBe(true)
    expect(await asDashboard((sql) => readSession(sql, id, EPOCH))).toBeNull()
    expect(await asDashboard((sql) => closeSession(sql, id))).toBe(false)
  })

  it('is no session under another operator token, once expired, or for a malformed id', async () => {
    const id = newSessionId()
    await asDashboard((sql) => openSession(sql, id, EPOCH, ALICE))
    expect(await asDashboard((sql) => readSession(sql, id, tokenEpoch('the-rotated-token-that-is-long-enough-too')))).toBeNull()
    expect(await asDashboard((sql) => readSession(sql, id, ''))).toBeNull()
    await db.sql`update telemetry.operator_sessions set expires_at = now() - interval '1 second' where id_hash = ${sessionIdHash(id)!}`
    expect(await asDashboard((sql) => readSession(sql, id, EPOCH))).toBeNull()
    for (const bad of [undefined, '', 'x', `${id}x`, id.replace(/./, '.')]) {
      expect(await asDashboard((sql) => readSession(sql, bad, EPOCH))).toBeNull()
    }
  })

  it('keeps the dashboard role out of the tables themselves', async () => {
    expect(await code((sql) => sql`select * from telemetry.operator_sessions`)).toBe('42501')
    expect(await code((sql) => sql`select * from telemetry.operator_accounts`)).toBe('42501')
    expect(await code((sql) => sql`insert into telemetry.operator_accounts (email, role) values ('x@example.test', 'operator')`)).toBe('42501')
    expect(await code((sql) => sql`select telemetry.open_operator_session(${Buffer.alloc(31)}, '', 'x', 'operator', null, null, 3600)`)).toBe('22023')
    expect(await code((sql) => sql`select telemetry.open_operator_session(${Buffer.alloc(32)}, '', 'x', 'admin', null, null, 3600)`)).toBe('23514')
  })

  it('gives allow-list roles by user id, else by e-mail address (any case)', async () => {
    const bob = '1b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d'
    const carol = '2b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d'
    await db.sql`insert into telemetry.operator_accounts (user_id, role) values (${bob}, 'operator')`
    await db.sql`insert into telemetry.operator_accounts (email, role) values ('Carol@Example.test', 'viewer'), ('bob@example.test', 'viewer')`
    expect(await asDashboard((sql) => allowListRole(sql, bob, 'bob@example.test'))).toBe('operator')
    expect(await asDashboard((sql) => allowListRole(sql, carol, 'carol@example.TEST'))).toBe('viewer')
    expect(await asDashboard((sql) => allowListRole(sql, carol, null))).toBeNull()
    expect(await asDashboard((sql) => allowListRole(sql, '3b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d', 'dave@example.test'))).toBeNull()
  })

  it('ends a person\'s sessions when their allow-list row changes role or goes', async () => {
    const erin = { ...ALICE, name: 'erin@example.test', userId: '4b4c2a1e-3d5f-4a6b-8c7d-9e0f1a2b3c4d', email: 'erin@example.test' }
    await db.sql`insert into telemetry.operator_accounts (email, role) values ('erin@example.test', 'operator')`
    const [a, b, other] = [newSessionId(), newSessionId(), newSessionId()]
    await asDashboard(async (sql) => {
      await openSession(sql, a, EPOCH, erin)
      await openSession(sql, other, EPOCH, ALICE)
    })
    await db.sql`update telemetry.operator_accounts set note = 'on call' where email = 'erin@example.test'`
    expect(await asDashboard((sql) => readSession(sql, a, EPOCH))).not.toBeNull()
    await db.sql`update telemetry.operator_accounts set role = 'viewer' where email = 'erin@example.test'`
    expect(await asDashboard((sql) => readSession(sql, a, EPOCH))).toBeNull()
    await asDashboard((sql) => openSession(sql, b, EPOCH, { ...erin, role: 'viewer' }))
    await db.sql`delete from telemetry.operator_accounts where email = 'erin@example.test'`
    expect(await asDashboard((sql) => readSession(sql, b, EPOCH))).toBeNull()
    expect(await asDashboard((sql) => readSession(sql, other, EPOCH))).not.toBeNull()
  })
})
