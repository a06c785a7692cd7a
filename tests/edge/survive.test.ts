// Telemetry that survives isolate death, on a stack of its own (it kills and recycles isolates, which
// the shared stack's suites must not see): a chat whose isolate is SIGKILLed mid-stream shows as lost
// on the dashboard, and one cut by the wall clock ends as cut by shutdown, its rows written.
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { startEdgeStack, type EdgeStack } from '../../tools/edge/stack.ts'
import { until } from '../support/wait.ts'

const SECRET = 'survive-tests-secret-at-least-32-characters'
const OPERATOR = 'survive-tests-operator-token-at-least-32-chars'
const USER = '3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b'
let stack: EdgeStack
let direct: Sql
let token: string

beforeAll(async () => {
  stack = await startEdgeStack({
    isolates: 1,
    poolSize: 4,
    // Long enough for a chat to start before its isolate is retired (at half); shorter than a chat.
    wallClockMs: 10_000,
    graceMs: 2_000,
    env: {
      JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
      // 300 tokens at 20 a second: every chat here outlives its isolate.
      SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '300', SIM_MAX_TOKENS: '300',
      TELEMETRY_LOST_AFTER_SECONDS: '1',
    },
    log: () => {},
  })
  direct = postgres(stack.directUrl, { max: 2, onnotice: () => {} })
  token = await signUserToken(SECRET, USER)
}, 240_000)

afterAll(async () => {
  await direct?.end({ timeout: 1 })
  await stack?.stop()
}, 60_000)

/** A chat streaming: its first delta has arrived. */
async function startChat() {
  const res = await fetch(`${stack.gatewayUrl}/functions/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'survive' }),
  })
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  let seen = ''
  while (!seen.includes('event: chat.delta')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the stream ended before its first delta: ${seen}`)
    seen += new TextDecoder().decode(value)
  }
  // Read on, so the stream is not cut for want of a reader.
  void (async () => { try { while (!(await reader.read()).done); } catch { /* the isolate went away */ } })()
  return { traceId: res.headers.get('x-trace-id')!, isolate: res.headers.get('x-isolate')! }
}

const api = async (path: string) => {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  expect(res.status).toBe(200)
  return res.json()
}

type Stream = { trace_id: string; end_reason: string | null; status: string; error_type: string | null; user_id: string | null }
type TraceSpan = { name: string; end_reason: string | null; attributes: Record<string, unknown>; status_message: string | null }

const streamsOf = async (traceId: string) =>
  ((await api('/api/streams?range=1h&limit=500')).streams as Stream[]).filter((s) => s.trace_id === traceId)

it('shows a chat whose isolate was SIGKILLed mid-stream as lost: streams list, trace page and health', async () => {
  const { traceId, isolate } = await startChat()
  // On record once a batch has run since it started (what the kill must come after to find it).
  await until(async () => (await direct`select 1 from telemetry.open_requests where trace_id = ${traceId}`).length > 0, 'the open request row')
  expect(stack.kill(isolate)).toBe(true)

  const [lost] = await until(async () => {
    const rows = await streamsOf(traceId)
    return rows.length > 0 && rows[0]!.end_reason === 'lost' && rows
  }, 'the killed chat listed as lost', 30_000)
  expect(lost).toMatchObject({ end_reason: 'lost', status: 'error', error_type: 'isolate_lost', user_id: USER })

  const trace = await api(`/api/traces/${traceId}`)
  const request = (trace.spans as TraceSpan[]).find((s) => s.name === 'POST /functions/v1/chat')!
  expect(request.end_reason).toBe('lost')
  expect(request.attributes['streamscope.instance.id']).toEqual(expect.any(String))

  // A chat on the replacement isolate puts its pipeline's heartbeat to work: it stores the lost
  // request as a span (counted in the rollups); shown once either way.
  await startChat()
  await until(async () => (await direct`select 1 from telemetry.spans where trace_id = ${traceId} and end_reason = 'lost'`).length > 0,
    'the lost request stored as a span by a live isolate', 30_000)
  expect(await streamsOf(traceId)).toHaveLength(1)
  const health = await api('/api/health')
  expect(health.windows[0].lost).toBe(1)
}, 120_000)

it('ends a chat cut by the wall clock as cut by shutdown (beforeunload), its rows written', async () => {
  const { traceId, isolate } = await startChat()
  await until(() => stack.exits().some((e) => e.id === isolate && e.reason === 'wall_clock'), 'the isolate recycled by its wall clock', 30_000)
  const [row] = await until(async () => {
    const rows = await streamsOf(traceId)
    return rows.length > 0 && rows
  }, 'the cut chat on the dashboard', 30_000)
  expect(row).toMatchObject({ end_reason: 'shutdown', status: 'error', error_type: 'shutdown' })
  const trace = await api(`/api/traces/${traceId}`)
  const request = (trace.spans as TraceSpan[]).find((s) => s.name === 'POST /functions/v1/chat')!
  expect(request.status_message).toBe('cut by shutdown (wall_clock)')
  expect(request.attributes['streamscope.shutdown.reason']).toBe('wall_clock')
  // Written by the beforeunload flush, not left behind: nothing of it is open, nor lost.
  expect(await direct`select 1 from telemetry.open_requests where trace_id = ${traceId}`).toEqual([])
}, 120_000)
