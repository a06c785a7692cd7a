// `npm run edge`'s stack, started once for this file: the real Deno entries behind the gateway,
// connected through PgBouncer in transaction mode, the dashboard on the same origin.
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { DEV_OPERATOR_TOKEN } from '../../server/dev-defaults.ts'
import { spawnLoad } from '../../tools/load/spawn-load.ts'
import { startEdgeStack, type EdgeStack } from '../../tools/edge/stack.ts'
import { framesOf } from '../support/chat-fixture.ts'
import { until } from '../support/wait.ts'
import { socketInode, socketInodes } from './sockets.ts'

const SECRET = 'edge-secret-that-is-at-least-32-characters'
const POOL_SIZE = 5
const USER = '8c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f'
let stack: EdgeStack
let direct: Sql
let admin: Sql
let token: string

beforeAll(async () => {
  stack = await startEdgeStack({
    isolates: 2,
    poolSize: POOL_SIZE,
    wallClockMs: 0, // no recycling here: lifecycle.test.ts has it
    env: {
      JWT_SECRET: SECRET, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
      // 20 tokens a second: a chat of max_tokens 5 ends quickly, one of 300 streams for a while.
      SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '300', SIM_MAX_TOKENS: '300', RESUME_GRACE_SECONDS: '1',
    },
    log: () => {},
  })
  direct = postgres(stack.directUrl, { max: 2, onnotice: () => {} })
  admin = postgres(stack.poolerAdminUrl, { max: 1, fetch_types: false, onnotice: () => {} })
  token = await signUserToken(SECRET, USER)
}, 240_000)

afterAll(async () => {
  await admin?.end({ timeout: 1 }).catch(() => {})
  await direct?.end({ timeout: 1 })
  await stack?.stop()
}, 60_000)

const chat = (body: Record<string, unknown>, init: RequestInit = {}) => fetch(`${stack.gatewayUrl}/functions/v1/chat`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'hello edge', ...body }),
  ...init,
})

const show = async (what: string, on = admin) => (await on.unsafe(`SHOW ${what}`).simple()) as unknown as Record<string, string | number>[]

/** `work`, or after `ms` an error saying what the pooler and PostgreSQL were doing: a hang turned into a report. */
async function reporting<T>(work: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const report = new Promise<never>((_, reject) => {
    timer = setTimeout(async () => {
      const fresh = postgres(stack.poolerAdminUrl, { max: 1, fetch_types: false, onnotice: () => {} })
      const pools = await show('POOLS', fresh).catch((err: Error) => err.message)
      await fresh.end({ timeout: 1 }).catch(() => {})
      const activity = await direct`select state, wait_event, left(query, 60) as query from pg_stat_activity where backend_type = 'client backend'`.catch((err: Error) => err.message)
      reject(new Error(`${what}: not done in ${ms} ms\npools ${JSON.stringify(pools)}\nactivity ${JSON.stringify(activity)}\nexits ${JSON.stringify(stack.exits())}`))
    }, ms)
  })
  try {
    return await Promise.race([work, report])
  } finally {
    clearTimeout(timer)
  }
}

describe('a chat through the gateway', () => {
  it('streams to chat.done from an isolate named in x-isolate, and its messages and spans are stored', async () => {
    const res = await chat({ max_tokens: 5 })
    expect(res.status).toBe(200)
    const isolate = res.headers.get('x-isolate')!
    expect(stack.isolates().map((i) => i.id)).toContain(isolate)
    expect(isolate).toMatch(/^chat-\d+$/)
    const traceId = res.headers.get('x-trace-id')!
    const frames = framesOf(await res.text())
    expect(frames.at(-1)!.event).toBe('chat.done')
    const messages = await direct`select role, user_id, status from messages where trace_id = ${traceId} order by role desc`
    expect(messages.map((m) => [m.role, m.user_id])).toEqual([['user', USER], ['assistant', USER]])
    const names = await until(async () => {
      const rows = await direct`select name from telemetry.spans where trace_id = ${traceId}`
      const found = rows.map((r) => r.name as string)
      return found.includes('POST /functions/v1/chat') && found
    }, 'the request span in telemetry.spans', 60_000)
    expect(names).toEqual(expect.arrayContaining(['chat sim-1', 'insert messages']))
  }, 90_000)

  it('goes through PgBouncer: its clients are the isolates, and PostgreSQL sees at most the pool size of them', async () => {
    const serversSeen: number[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        serversSeen.push((await show('SERVERS')).filter((s) => s.database === 'postgres').length)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const answers = await reporting(Promise.all(Array.from({ length: 20 }, () => chat({ max_tokens: 5 }).then((r) => r.text()))), '20 concurrent chats')
      .finally(() => { sampling = false })
    await reporting(sampler, 'the last SHOW SERVERS sample')
    expect(answers.every((a) => framesOf(a).at(-1)?.event === 'chat.done')).toBe(true)
    expect(Math.max(...serversSeen)).toBeLessThanOrEqual(POOL_SIZE)

    const [pool] = (await show('POOLS')).filter((p) => p.database === 'postgres')
    expect(pool!.pool_mode).toBe('transaction')
    const poolerPort = Number(new URL(stack.poolerUrl).port)
    const pgPort = Number(new URL(stack.directUrl).port)
    const isolateSockets = new Map(stack.isolates().map((i) => [i.id, socketInodes(i.pid)]))
    const ownerOf = (inode: string | undefined) => [...isolateSockets].find(([, set]) => inode && set.has(inode))?.[0]

    const clients = (await show('CLIENTS')).filter((c) => c.database === 'postgres')
    const owners = clients.map((c) => ownerOf(socketInode(Number(c.port), poolerPort)))
    expect(owners.length).toBeGreaterThan(0)
    expect(owners.every((o) => o !== undefined)).toBe(true)
    expect(new Set(owners).size).toBeGreaterThanOrEqual(2) // both chat isolates served, almost surely, and embed's pool is idle

    const servers = (await show('SERVERS')).filter((s) => s.database === 'postgres')
    expect(servers.length).toBeLessThanOrEqual(POOL_SIZE)
    const pooled = new Set(servers.map((s) => Number(s.remote_pid)))
    const backends = await direct`select pid, client_port from pg_stat_activity where backend_type = 'client backend'`
    const mine = socketInodes(process.pid)
    for (const b of backends) {
      // A backend is PgBouncer's, or this process's own (the test, the stack's migrations and maintenance, the dashboard).
      const viaPooler = pooled.has(b.pid)
      expect(viaPooler || mine.has(socketInode(b.client_port, pgPort) ?? '')).toBe(true)
    }
    expect(backends.filter((b) => pooled.has(b.pid)).length).toBeLessThanOrEqual(POOL_SIZE)
  }, 120_000)

  it('passes the SSE frames as they come and a client that leaves cuts the stream in the isolate', async () => {
    const leave = new AbortController()
    const res = await chat({}, { signal: leave.signal }) // 300 tokens at 20 a second
    const traceId = res.headers.get('x-trace-id')!
    const reader = res.body!.getReader()
    let seen = ''
    while (!seen.includes('event: chat.delta')) {
      const { value, done } = await reader.read()
      if (done) break
      seen += new TextDecoder().decode(value)
    }
    expect(seen).toContain('event: chat.delta')
    expect(seen).not.toContain('chat.done')
    leave.abort()
    // Buffered, the first delta would only have come with the end of the answer; unpropagated, the
    // abort would have left the isolate streaming to `complete`.
    const status = await until(async () => {
      const [row] = await direct`select status from messages where trace_id = ${traceId} and role = 'assistant'`
      return row?.status as string | undefined
    }, 'the assistant message of the abandoned stream', 60_000)
    expect(status).toBe('cut')
  }, 90_000)
})

it('spreads requests over the isolates of a function: no stickiness', async () => {
  const seen = new Set<string>()
  // 40 requests on 2 isolates all landing on one: probability 2^-39.
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${stack.gatewayUrl}/functions/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect((await res.json()).error.code).toBe('unauthorized')
    seen.add(res.headers.get('x-isolate')!)
  }
  const chatIsolates = stack.isolates().filter((i) => i.function === 'chat').map((i) => i.id)
  expect([...seen].sort()).toEqual(chatIsolates.sort())
}, 60_000)

it('embeds through the gateway, on an embed isolate', async () => {
  const res = await fetch(`${stack.gatewayUrl}/functions/v1/embed`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: ['first text', 'second text'] }),
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('x-isolate')).toMatch(/^embed-\d+$/)
  const body = await res.json()
  const rows = await direct`select chunk_index, content from document_embeddings where document_id = ${body.document_id} order by chunk_index`
  expect(rows.map((r) => [r.chunk_index, r.content])).toEqual([[0, 'first text'], [1, 'second text']])
}, 60_000)

it('answers an unknown function with not_found, as JSON', async () => {
  const res = await fetch(`${stack.gatewayUrl}/functions/v1/nope`, { method: 'POST' })
  expect(res.status).toBe(404)
  expect((await res.json()).error).toMatchObject({ code: 'not_found', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) })
})

it('serves the dashboard on the same origin, with the operator token', async () => {
  const ok = await fetch(`${stack.gatewayUrl}/api/health`, { headers: { authorization: `Bearer ${DEV_OPERATOR_TOKEN}` } })
  expect(ok.status).toBe(200)
  expect(await ok.json()).toHaveProperty('flag')
  const refused = await fetch(`${stack.gatewayUrl}/api/health`)
  expect(refused.status).toBe(401)
}, 60_000)

it('runs `npm run load` against its URL unchanged', async () => {
  const summary = await spawnLoad([
    '--url', stack.gatewayUrl, '--jwt-secret', SECRET, '--streams', '4', '--duration', '3s', '--ramp', '0s',
    '--drain', '60s', '--prompt-tokens', '20', '--max-tokens', '5',
  ], { timeoutMs: 120_000 })
  expect(summary.chats.done).toBeGreaterThan(0)
  expect(summary.chats.failed).toBe(0)
  expect(summary.errors).toEqual({})
  expect(summary.lost_frames).toBe(0)
}, 150_000)

it('lists its live isolates at /_stack/isolates', async () => {
  const res = await fetch(`${stack.gatewayUrl}/_stack/isolates`)
  const list = await res.json() as { id: string; function: string; pid: number; port: number; started_at: string }[]
  expect(list.map((i) => i.function).sort()).toEqual(['chat', 'chat', 'embed', 'embed'])
  for (const i of list) {
    expect(() => process.kill(i.pid, 0)).not.toThrow()
    expect(i.port).toBeGreaterThan(0)
    expect(new Date(i.started_at).toISOString()).toBe(i.started_at)
  }
})

// Last: it takes an isolate away for a while.
it('replaces an isolate that was SIGKILLed', async () => {
  const victim = stack.isolates().find((i) => i.function === 'chat')!
  const res = await fetch(`${stack.gatewayUrl}/_stack/isolates/${victim.id}/kill`, { method: 'POST' })
  expect(res.status).toBe(204)
  const replaced = await until(() => {
    const chats = stack.isolates().filter((i) => i.function === 'chat')
    return chats.length === 2 && !chats.some((i) => i.id === victim.id) && chats
  }, 'a replacement chat isolate', 90_000)
  expect(replaced.map((i) => i.id)).not.toContain(victim.id)
  expect(() => process.kill(victim.pid, 0)).toThrow()
  const exits = await (await fetch(`${stack.gatewayUrl}/_stack/exits`)).json()
  expect(exits).toContainEqual(expect.objectContaining({ id: victim.id, reason: 'killed', signal: 'SIGKILL' }))
  const after = await chat({ max_tokens: 5 })
  expect(framesOf(await after.text()).at(-1)!.event).toBe('chat.done')
}, 120_000)
