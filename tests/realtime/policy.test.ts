// The realtime.messages policy of 20261204000300_realtime_chat_private.sql, on a stand-in for
// the `realtime` schema the Realtime service creates on Supabase (a plain PostgreSQL has none).
// Joins are checked the way Realtime checks them (lib/realtime/tenants/authorization.ex): rows
// for the topic are inserted as the owner, then read back as the JWT's role with
// `realtime.topic` and `request.jwt.claims` set; a send is an insert as that role. Everything
// runs in one transaction that is rolled back, so no other test sees the stand-in.
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReservedSql } from 'postgres'
import { chatTopic } from '../../shared/realtime.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { REALTIME_SCHEMA } from './stand-in.ts'

const MIGRATION = new URL('../../migrations/20261204000300_realtime_chat_private.sql', import.meta.url)
const ALICE = '11111111-1111-4111-8111-111111111111'
const BOB = '22222222-2222-4222-8222-222222222222'
const SESSION = 'c0000000-0000-4000-8000-000000000001'

interface Who { role: 'authenticated' | 'anon'; sub?: string }

let db: TestDatabase
let tx: ReservedSql
let installedBefore: boolean
let step = 0

beforeAll(async () => {
  db = await freshDatabase()
  tx = await db.sql.reserve()
  await tx`begin`
  ;[{ installed: installedBefore }] = await tx`select public.install_chat_realtime_policy() as installed`
  await tx.unsafe(REALTIME_SCHEMA)
  await tx.unsafe(await readFile(MIGRATION, 'utf8'))
})
afterAll(async () => {
  await tx?.unsafe('rollback')
  tx?.release()
  await db?.drop()
})

async function as<T>(who: Who, topic: string, work: () => Promise<T>): Promise<T> {
  const savepoint = `check_${step++}`
  await tx.unsafe(`savepoint ${savepoint}`)
  try {
    await tx`select set_config('role', ${who.role}, true), set_config('realtime.topic', ${topic}, true),
                    set_config('request.jwt.claims', ${JSON.stringify({ role: who.role, ...(who.sub ? { sub: who.sub } : {}) })}, true)`
    return await work()
  } finally {
    await tx.unsafe(`rollback to savepoint ${savepoint}`)
  }
}

/** Realtime's read check: may `who` join `topic` and receive its broadcasts (and presence)? */
async function canRead(who: Who, topic: string) {
  const rows = await tx<{ id: string; extension: string }[]>`
    insert into realtime.messages (topic, extension) values (${topic}, 'broadcast'), (${topic}, 'presence') returning id, extension`
  return as(who, topic, async () => {
    const seen = await tx<{ extension: string }[]>`select extension from realtime.messages where id in ${tx(rows.map((r) => r.id))}`
    return Object.fromEntries(['broadcast', 'presence'].map((e) => [e, seen.some((s) => s.extension === e)]))
  })
}

/** Realtime's write check: may `who` send a broadcast on `topic`? */
function canSend(who: Who, topic: string) {
  return as(who, topic, async () => {
    await tx.unsafe('savepoint try_insert')
    try {
      await tx`insert into realtime.messages (topic, extension) values (${topic}, 'broadcast')`
      return true
    } catch (err) {
      if ((err as { code?: string }).code !== '42501') throw err
      await tx.unsafe('rollback to savepoint try_insert')
      return false
    }
  })
}

const alice: Who = { role: 'authenticated', sub: ALICE }

describe('realtime.messages: who may listen to chat.done', () => {
  it('the migration installs nothing where there is no realtime.messages, and the policy where there is', async () => {
    expect(installedBefore).toBe(false)
    const policies = await tx`select policyname, cmd, roles::text[] as roles from pg_policies where schemaname = 'realtime' and tablename = 'messages'`
    expect(policies).toEqual([{ policyname: 'chat_done_listen_own', cmd: 'SELECT', roles: ['authenticated'] }])
    const [{ rls }] = await tx`select relrowsecurity as rls from pg_class where oid = 'realtime.messages'::regclass`
    expect(rls).toBe(true)
  })

  it("a user receives broadcasts on their own session's topic", async () => {
    expect(await canRead(alice, chatTopic(ALICE, SESSION))).toEqual({ broadcast: true, presence: false })
  })

  it("a user cannot join another user's topic, even for a session id they also use", async () => {
    expect(await canRead(alice, chatTopic(BOB, SESSION))).toEqual({ broadcast: false, presence: false })
    expect(await canRead({ role: 'authenticated', sub: BOB }, chatTopic(ALICE, SESSION))).toEqual({ broadcast: false, presence: false })
  })

  it('the old session-only topic, a bare user prefix and look-alike topics are closed', async () => {
    for (const topic of [`chat:${SESSION}`, `chat:${ALICE}`, `chat:${ALICE}x:${SESSION}`, `xchat:${ALICE}:${SESSION}`, `${ALICE}:${SESSION}`]) {
      expect(await canRead(alice, topic), topic).toEqual({ broadcast: false, presence: false })
    }
  })

  it('anon and a token without a sub receive nothing', async () => {
    expect(await canRead({ role: 'anon' }, chatTopic(ALICE, SESSION))).toEqual({ broadcast: false, presence: false })
    expect(await canRead({ role: 'authenticated' }, chatTopic(ALICE, SESSION))).toEqual({ broadcast: false, presence: false })
    expect(await canRead({ role: 'authenticated' }, 'chat::')).toEqual({ broadcast: false, presence: false })
  })

  it('no client may send on a chat topic, not even its owner (chat.done comes only from the function)', async () => {
    expect(await canSend(alice, chatTopic(ALICE, SESSION))).toBe(false)
    expect(await canSend(alice, chatTopic(BOB, SESSION))).toBe(false)
    expect(await canSend({ role: 'anon' }, chatTopic(ALICE, SESSION))).toBe(false)
  })

  it('installing again is idempotent and keeps one policy', async () => {
    const [{ installed }] = await tx`select public.install_chat_realtime_policy() as installed`
    expect(installed).toBe(true)
    const [{ n }] = await tx`select count(*)::int as n from pg_policies where schemaname = 'realtime' and tablename = 'messages'`
    expect(n).toBe(1)
    expect(await canRead(alice, chatTopic(ALICE, SESSION))).toEqual({ broadcast: true, presence: false })
  })
})
