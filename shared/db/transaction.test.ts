import postgres, { type Sql, type TransactionSql } from 'postgres'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { until } from '../../tests/support/wait.ts'
import { transaction } from './transaction.ts'

// The connection of a transaction dies while its callback runs (pg_terminate_backend from
// another session: what a database restart or a pooler recycling connections does to it).
// Bare `sql.begin` crashes the process here with an uncaught TypeError from inside postgres.js
// 3.4.9 (porsager/postgres#1208); these tests watch for exactly that.

let db: TestDatabase
let admin: Sql
let sql: Sql
const uncaught: unknown[] = []
const record = (err: unknown) => { uncaught.push(err) }

beforeAll(async () => {
  db = await freshDatabase()
  admin = postgres(db.url, { max: 1, onnotice: () => {} })
  await db.sql`create table tx_probe (n int)`
})
afterAll(async () => { await admin?.end(); await db.drop() })
beforeEach(async () => {
  sql = postgres(db.url, { max: 2, onnotice: () => {} })
  uncaught.length = 0
  process.on('uncaughtException', record)
})
afterEach(async () => {
  process.off('uncaughtException', record)
  await sql.end({ timeout: 1 })
})

const kill = async (tx: TransactionSql) => {
  const [{ pid }] = await tx`select pg_backend_pid() as pid`
  await admin`select pg_terminate_backend(${pid})`
}
/**
 * Resolves once the driver has seen the connection close: its close handler rejects the
 * transaction, whatever the callback is still doing. No time is guessed.
 */
const lossSeen = (outcome: Promise<unknown>) => outcome.then(() => {}, () => {})
/**
 * The crash this file guards against is a write postgres.js defers to setImmediate after the
 * callback settles; a few turns of the event loop give it every chance to fire (and fail).
 */
const turns = async (n = 5) => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)) }

describe('transaction: the connection dies mid-callback', () => {
  it('rejects with CONNECTION_CLOSED when the callback fails afterwards, and the pool goes on', async () => {
    const outcome: Promise<unknown> = transaction(sql, async (tx) => {
      await kill(tx)
      await lossSeen(outcome)
      throw new Error('the work failed too')
    })
    await expect(outcome).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
    await turns()
    expect(uncaught).toEqual([])
    expect((await sql`select 1 as one`)[0].one).toBe(1)
  })

  it('refuses a query the callback issues after the loss, without touching the connection', async () => {
    let callback: Promise<unknown> | undefined
    const outcome: Promise<unknown> = transaction(sql, (tx) => callback = (async () => {
      await kill(tx)
      await lossSeen(outcome)
      await tx`insert into tx_probe values (1)`
    })())
    await expect(outcome).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
    // The callback's own query is refused (it does not hang, and nothing reaches the connection).
    await expect(callback).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
    await turns()
    expect(uncaught).toEqual([])
    expect(await db.sql`select * from tx_probe`).toHaveLength(0)
  })

  it('rejects when the connection dies under a running statement', async () => {
    const outcome = transaction(sql, async (tx) => {
      const [{ pid }] = await tx`select pg_backend_pid() as pid`
      const running = tx`select pg_sleep(60)`.execute()
      running.catch(() => {}) // awaited below; the close may come before that
      // Killed once the statement is running on the server, not after a guessed delay.
      await until(async () => (await admin`select 1 from pg_stat_activity where pid = ${pid} and state = 'active' and query like '%pg_sleep%'`).length > 0, 'the statement to run')
      await admin`select pg_terminate_backend(${pid})`
      await running
    })
    await expect(outcome).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
    await turns()
    expect(uncaught).toEqual([])
    expect((await sql`select 2 as two`)[0].two).toBe(2)
  })

  it('does not commit work that finished after the loss', async () => {
    const outcome: Promise<unknown> = transaction(sql, async (tx) => {
      await tx`insert into tx_probe values (2)`
      await kill(tx)
      await lossSeen(outcome)
      return 'done'
    })
    await expect(outcome).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' })
    await turns()
    expect(uncaught).toEqual([])
    expect(await db.sql`select * from tx_probe`).toHaveLength(0)
  })
})

describe('transaction: a live connection', () => {
  it('commits what the callback did and resolves to its result', async () => {
    const result = await transaction(sql, async (tx) => {
      await tx`insert into tx_probe values (10)`
      await tx.unsafe('insert into tx_probe values (11)')
      return 'ok'
    })
    expect(result).toBe('ok')
    expect((await db.sql`select n from tx_probe where n >= 10 order by n`).map((r) => r.n)).toEqual([10, 11])
  })

  it('rolls back and rethrows the callback’s own error', async () => {
    const failure = new Error('nope')
    await expect(transaction(sql, async (tx) => { await tx`insert into tx_probe values (20)`; throw failure })).rejects.toBe(failure)
    expect(await db.sql`select * from tx_probe where n = 20`).toHaveLength(0)
  })

  it('rolls back an error that only looks like a lost connection, once the connection proves alive', async () => {
    const lookalike = Object.assign(new Error('from elsewhere'), { code: 'ECONNRESET' })
    await expect(transaction(sql, async (tx) => { await tx`insert into tx_probe values (30)`; throw lookalike })).rejects.toBe(lookalike)
    expect(await db.sql`select * from tx_probe where n = 30`).toHaveLength(0)
    expect((await sql`select 3 as three`)[0].three).toBe(3)
  })

  it('runs in the mode asked for', async () => {
    await expect(transaction(sql, async (tx) => { await tx`insert into tx_probe values (40)` }, 'read only'))
      .rejects.toMatchObject({ code: '25006' })
  })
})
