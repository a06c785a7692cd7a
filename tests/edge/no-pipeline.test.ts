// The functions' client through the transaction pooler sends one query at a time. A query
// pipelined behind another is lost there: PgBouncer (and Supavisor) hand the server connection
// back at the first one's ReadyForQuery, the answer to the second never comes, and every query
// of the isolate waits on it (shared/db/open.ts). Counted on the wire, from the client's own
// socket: requests written (Sync, simple Query) against ReadyForQuery answers read.
import net from 'node:net'
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { DatabaseConfig } from '../../shared/config.ts'
import { BEGIN_WITHOUT_PIPELINE, functionsDbOptions } from '../../shared/db/open.ts'
import { noDelaySocket } from '../../shared/db/pg-socket.ts'
import { transaction } from '../../shared/db/transaction.ts'
import { edgeStack } from '../support/edge.ts'

/** Splits a byte stream into protocol messages (type byte + int32 length); `untyped` messages first (startup). */
function messageTypes(untyped: number, onType: (type: string) => void) {
  let buffered = Buffer.alloc(0)
  let left = untyped
  return (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (;;) {
      const typed = left === 0
      const header = typed ? 5 : 4
      if (buffered.length < header) return
      const length = buffered.readInt32BE(typed ? 1 : 0) + (typed ? 1 : 0)
      if (buffered.length < length) return
      if (typed) onType(String.fromCharCode(buffered[0]!))
      else left--
      buffered = buffered.subarray(length)
    }
  }
}

let outstanding = 0
let mostOutstanding = 0
let sql: Sql

beforeAll(() => {
  const edge = edgeStack()
  const database: DatabaseConfig = { url: edge.poolerUrl, source: 'STREAMSCOPE_DB_POOLER_URL', maxConnections: 1, idleTimeoutSeconds: 10 }
  sql = postgres(database.url, {
    ...functionsDbOptions(database),
    socket: (options: Parameters<typeof noDelaySocket>[0]) => {
      const socket = noDelaySocket(options)
      outstanding = 1 // the startup, answered by the first ReadyForQuery
      const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean
      const sent = messageTypes(1, (type) => {
        if (type === 'S' || type === 'Q') mostOutstanding = Math.max(mostOutstanding, ++outstanding)
      })
      socket.write = ((chunk: Buffer, ...rest: unknown[]) => { sent(Buffer.from(chunk)); return write(chunk, ...rest) }) as net.Socket['write']
      socket.on('data', messageTypes(0, (type) => { if (type === 'Z') outstanding-- }))
      return socket
    },
  } as object)
})
afterAll(async () => { await sql?.end({ timeout: 1 }) })

it('runs this install’s postgres.js with the patch that lets sql.begin go without pipelining', () => {
  expect(BEGIN_WITHOUT_PIPELINE).toBe(true)
})

it('has at most one request in flight on its connection while queries and transactions come all at once', async () => {
  const work = Array.from({ length: 60 }, (_, i) => i % 3 === 2
    ? transaction(sql, async (tx) => {
      const [a] = await tx`select ${i}::int as n`
      const [b] = await tx`select ${a!.n + 1}::int as n, txid_current() as xid`
      return b!.n as number
    })
    // Without parameters a query needs no Describe round trip first: the kind postgres.js pipelines.
    : sql.unsafe(`select ${i}::int as n`).then(([row]) => row!.n as number))
  const results = await Promise.all(work)
  expect(results).toEqual(Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? i + 1 : i)))
  expect(mostOutstanding).toBe(1)
})

it('keeps other queries out of a transaction while its BEGIN is on the wire', async () => {
  // A query placed on the connection between BEGIN and its answer would run inside the
  // transaction: its txid_current() would be the transaction's own.
  const inside = transaction(sql, async (tx) => (await tx`select txid_current() as xid`)[0]!.xid as string)
  const outside = sql.unsafe('select txid_current() as xid').then(([row]) => row!.xid as string)
  const [a, b] = await Promise.all([inside, outside])
  expect(a).toMatch(/^\d+$/)
  expect(b).toMatch(/^\d+$/)
  expect(b).not.toBe(a)
})
