// The chat client against the real server through a proxy that cuts connections at seeded random
// points: whatever the cuts, the text the client ends with is the stored answer, exactly.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { streamChat } from '../../shared/client/chat.ts'
import type { ChatEvent } from '../../shared/client/types.ts'
import { createRandom as seededRandom } from '../../shared/random.ts'
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const SECRET = 'client-resume-secret-at-least-32-characters'
const RUNS = 20

let db: TestDatabase
let server: RunningServer
let proxy: CutProxy

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({
    DATABASE_URL: db.url, JWT_SECRET: SECRET,
    SIM_TTFB_MS: '10', SIM_TOKENS_PER_SECOND: '1500', SIM_MIN_TOKENS: '40', SIM_MAX_TOKENS: '120',
    SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
  })
  proxy = await startCutProxy(server.baseUrl)
}, 120_000)

afterAll(async () => {
  await proxy?.close()
  await server?.stop()
  await db?.drop()
})

// The chat request itself, not the timing beacon (/functions/v1/chat/beacon).
const isChat = (path: string) => path.split('?')[0] === '/functions/v1/chat'

async function storedAnswer(messageId: string) {
  const [row] = await db.sql<{ content: string; status: string; trace_id: string }[]>`
    select content, status, trace_id from public.messages where id = ${messageId} and role = 'assistant'`
  return row
}

async function userMessages(sessionId: string) {
  const [{ n }] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from public.messages where session_id = ${sessionId} and role = 'user'`
  return n
}

describe('chat client through a connection-cutting proxy', () => {
  it(`ends with exactly the stored answer across ${RUNS} seeded runs of random cuts`, async () => {
    const summary: string[] = []
    let totalCuts = 0
    for (let seed = 1; seed <= RUNS; seed++) {
      const cutAt = seededRandom(seed)
      // Most chat responses (first requests and resumes alike) are cut somewhere in their first
      // 6 KB: inside the headers, between frames, inside a frame, inside a UTF-8 sequence.
      proxy.setPlan(({ path }) => (isChat(path) && cutAt() < 0.75 ? Math.floor(cutAt() * 6000) : null))
      const cutsBefore = proxy.cuts
      const user = crypto.randomUUID()
      const token = await signUserToken(SECRET, user)
      const sessionId = crypto.randomUUID()
      const events: ChatEvent[] = []
      const stream = streamChat({
        url: proxy.url, getToken: () => token, session_id: sessionId, content: `run ${seed}: tell me about streams`,
        random: seededRandom(1000 + seed), baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 8,
        onEvent: (e) => events.push(e),
      })
      const result = await stream.result
      const cuts = proxy.cuts - cutsBefore
      totalCuts += cuts
      expect(result.error, `seed ${seed}: ${JSON.stringify(result.error)}`).toBe(null)
      expect(result.done).not.toBe(null)

      const stored = await storedAnswer(result.done!.message_id)
      expect(stored, `seed ${seed}`).toMatchObject({ status: 'complete', trace_id: result.trace_id })
      expect(result.text, `seed ${seed}`).toBe(stored!.content)

      // Deltas arrived in order, each once.
      const seqs = events.flatMap((e) => (e.type === 'delta' ? [e.seq] : []))
      expect(seqs).toEqual(seqs.map((_, i) => i + 1))
      // A connection that died before the response headers is asked again (the client cannot
      // know whether the server got it) with the same Idempotency-Key: the server answers a
      // repeat with the first request's stream, so the question is stored once, whatever happened.
      const askedAgain = events.filter((e, i) => e.type === 'retry' && (e.reason === 'network' || e.reason === 'fallback_http') && !events.slice(0, i).some((p) => p.type === 'open')).length
      expect(await userMessages(sessionId)).toBe(1)
      const resumes = events.filter((e) => e.type === 'resume').length
      summary.push(`seed ${seed}: ${cuts} cuts, ${resumes} resumes, ${askedAgain} re-asked, ${seqs.length} deltas, ${result.transport}`)
    }
    console.log(`[client] ${RUNS} runs, ${totalCuts} cuts\n  ${summary.join('\n  ')}`)
    // The plan did cut: the runs above were not all clean.
    expect(totalCuts).toBeGreaterThan(RUNS)
  }, 180_000)

  it('falls back to the JSON transport after two connections die before any byte', async () => {
    let chats = 0
    proxy.setPlan(({ path }) => (isChat(path) && ++chats <= 2 ? 0 : null))
    const firstRequest = proxy.requests.length
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const stream = streamChat({ url: proxy.url, getToken: () => token, session_id: crypto.randomUUID(), content: 'fallback please', baseDelayMs: 10 })
    const events: ChatEvent[] = []
    for await (const e of stream) events.push(e)
    const result = await stream.result
    expect(result.error).toBe(null)
    expect(result.transport).toBe('http')
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { reason: string }).reason)).toEqual(['network', 'fallback_http'])
    const accepts = proxy.requests.slice(firstRequest).map((r) => /\naccept: ([^\r\n]+)/i.exec(r.head)?.[1])
    expect(accepts).toEqual(['text/event-stream', 'text/event-stream', 'application/json'])
    expect(result.text).toBe((await storedAnswer(result.done!.message_id))!.content)
  })

  it('stops at once on abort, without retrying, holding a prefix of what the server stores', async () => {
    proxy.setPlan(() => null)
    const controller = new AbortController()
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const sessionId = crypto.randomUUID()
    let attempts = 0
    const counting: typeof fetch = (input, init) => { attempts++; return fetch(input, init) }
    let deltas = 0
    // Aborted from the callback, which runs as each delta is read: the chat cannot finish first.
    const stream = streamChat({
      url: server.baseUrl, getToken: () => token, session_id: sessionId, content: 'stop me', signal: controller.signal, fetch: counting,
      onDelta: () => { if (++deltas === 3) controller.abort(new Error('stop pressed')) },
    })
    const result = await stream.result
    expect(result.error).toMatchObject({ code: 'aborted', message: 'stop pressed', retryable: false, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) })
    expect(result.done).toBe(null)
    expect(attempts).toBe(1)
    expect(deltas).toBe(3)
    // The server stores the answer when it ends: as cut after RESUME_GRACE_SECONDS, or complete
    // if this fast simulated stream had already been generated (the page test checks 'cut' on a
    // slower one). Either way the client holds a prefix of it.
    const row = await until(async () => (await db.sql<{ status: string; content: string }[]>`select status, content from public.messages where session_id = ${sessionId} and role = 'assistant'`)[0], 'the stored answer')
    expect(['cut', 'complete']).toContain(row?.status)
    expect(row!.content.startsWith(result.text)).toBe(true)
  }, 30_000)

  it('resumes the same way under real Deno', async () => {
    let chats = 0
    proxy.setPlan(({ path }) => (isChat(path) && ++chats === 1 ? 3000 : null))
    const token = await signUserToken(SECRET, crypto.randomUUID())
    const { stdout } = await promisify(execFile)(`${ROOT}node_modules/.bin/deno`, ['run', '--check', '--allow-net', 'tests/client/deno-chat.ts', proxy.url, token, crypto.randomUUID()], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_NO_UPDATE_CHECK: '1' },
    })
    proxy.setPlan(() => null)
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(result.error).toBe(null)
    expect(chats).toBe(2)
    expect(result.text).toBe((await storedAnswer(result.done.message_id))!.content)
  }, 60_000)
})
