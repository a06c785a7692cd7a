// The functions on the shared edge stack with their database as on Supabase: SUPABASE_DB_URL is
// PostgreSQL itself, STREAMSCOPE_DB_POOLER_URL the transaction pooler (tools/edge/stack.ts
// isolateEnv). A burst of every kind of request (chats, beacons, message and document embeds) at
// once, on one connection per isolate: every request completes and its rows are stored, while no
// isolate ever holds more than one pooler connection or any connection to PostgreSQL itself.
import postgres from 'postgres'
import { afterAll, expect, it } from 'vitest'
import { framesOf } from '../support/chat-fixture.ts'
import { edgeStack } from '../support/edge.ts'
import { until } from '../support/wait.ts'
import { socketInode, socketInodes } from './sockets.ts'

const edge = edgeStack()
const direct = edge.direct()
const admin = postgres(edge.poolerAdminUrl, { max: 1, fetch_types: false, onnotice: () => {} })
afterAll(async () => { await admin.end({ timeout: 1 }); await direct.end({ timeout: 1 }) })

interface Isolate { id: string; pid: number }
const isolates = async () => (await (await fetch(`${edge.gatewayUrl}/_stack/isolates`)).json()) as Isolate[]

/** The isolate holding each local port's connection to `remotePort`, or undefined when none does. */
function holders(list: Isolate[], localPorts: number[], remotePort: number): (string | undefined)[] {
  const sockets = list.map((i) => { try { return [i.id, socketInodes(i.pid)] as const } catch { return [i.id, new Set<string>()] as const } })
  return localPorts.map((port) => {
    const inode = socketInode(port, remotePort)
    return sockets.find(([, set]) => inode !== undefined && set.has(inode))?.[0]
  })
}

/** The most pooler connections any one isolate held, sampled until `work` settles. */
async function maxPerIsolate(work: Promise<unknown>): Promise<number> {
  const poolerPort = Number(new URL(edge.poolerUrl).port)
  let most = 0
  let sampling = true
  void work.finally(() => { sampling = false })
  while (sampling) {
    const list = await isolates()
    const clients = ((await admin.unsafe('SHOW CLIENTS').simple()) as unknown as { database: string; port: number }[]).filter((c) => c.database === 'postgres')
    const counts = new Map<string, number>()
    for (const id of holders(list, clients.map((c) => Number(c.port)), poolerPort)) if (id) counts.set(id, (counts.get(id) ?? 0) + 1)
    most = Math.max(most, ...counts.values())
    await new Promise((r) => setTimeout(r, 25))
  }
  return most
}

const post = async (path: string, user: string, body: unknown) => fetch(`${edge.gatewayUrl}/functions/v1/${path}`, {
  method: 'POST',
  headers: { authorization: `Bearer ${await edge.userToken(user)}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

/** A chat, then its beacon (even i) or an embedding of its answer (odd i). */
async function chatThenMore(i: number, user: string) {
  const res = await post('chat', user, { session_id: crypto.randomUUID(), content: `burst ${i}`, max_tokens: 5 })
  const done = framesOf(await res.text()).at(-1)!
  expect(done.event).toBe('chat.done')
  const next = i % 2 === 0
    ? await post('chat/beacon', user, { stream_id: res.headers.get('x-stream-id'), client_ttfb_ms: 5, client_duration_ms: 50 })
    : await post('embed', user, { message_id: done.data.message_id })
  expect(next.status).toBe(i % 2 === 0 ? 204 : 200)
  return { logged: [res.headers.get('x-trace-id')!, ...(i % 2 ? [next.headers.get('x-trace-id')!] : [])], quiet: i % 2 ? [] : [next.headers.get('x-trace-id')!] }
}

it('serves a burst of every query path on one pooler connection per isolate, never a direct one, and stores it all', async () => {
  const users = Array.from({ length: 16 }, () => crypto.randomUUID())
  const burst = Promise.all([
    ...users.slice(0, 12).map((user, i) => chatThenMore(i, user)),
    ...users.slice(12).map(async (user) => {
      const res = await post('embed', user, { input: ['one chunk', 'another chunk'] })
      expect(res.status).toBe(200)
      return { logged: [res.headers.get('x-trace-id')!], quiet: [] }
    }),
  ])
  const most = await maxPerIsolate(burst)
  const logged = (await burst).flatMap((r) => r.logged) // a beacon logs nothing when it is stored
  const traces = [...logged, ...(await burst).flatMap((r) => r.quiet)]
  expect(most).toBe(1)

  const pgPort = Number(new URL(edge.directUrl).port)
  const backends = await direct<{ client_port: number }[]>`select client_port from pg_stat_activity where backend_type = 'client backend' and client_port > 0`
  expect(holders(await isolates(), backends.map((b) => b.client_port), pgPort).filter(Boolean)).toEqual([])

  const count = async (query: Promise<{ n: number }[]>) => (await query)[0]!.n
  expect(await count(direct`select count(*)::int as n from public.messages where user_id in ${direct(users)}`)).toBe(24)
  expect(await count(direct`select count(*)::int as n from public.chat_beacons where user_id in ${direct(users)}`)).toBe(6)
  expect(await count(direct`select count(*)::int as n from public.message_embeddings where user_id in ${direct(users)}`)).toBe(6)
  expect(await count(direct`select count(*)::int as n from public.document_embeddings where user_id in ${direct(users)}`)).toBe(8)
  expect(await count(direct`select count(distinct trace_id)::int as n from public.trace_owners where trace_id in ${direct(traces)}`)).toBe(traces.length)
  // Spans by COPY (and request spans through the stage), logs by COPY, written on the isolates' one connection.
  await until(async () => await count(direct`select count(*)::int as n from telemetry.spans where kind = 'server' and trace_id in ${direct(traces)}`) === traces.length,
    'a request span for every request', 60_000)
  await until(async () => await count(direct`select count(distinct trace_id)::int as n from telemetry.logs where trace_id in ${direct(logged)}`) === logged.length,
    'logs of every chat and embed', 60_000)
}, 120_000)
