// The isolate generating a stream is SIGKILLed mid-answer: its beats in the frame log stop, and a
// resume on another isolate gets the logged prefix and `stream_cut`; the partial answer is stored
// as cut and shows on the dashboard. A stack of its own: the shared one's isolates are not killed.
import postgres, { type Sql } from 'postgres'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { startEdgeStack, type EdgeStack } from '../../tools/edge/stack.ts'
import { until } from '../support/wait.ts'
import { chatClient, deltasOf, range, readFrames, seqsOf, textOf } from './resume-support.ts'

const SECRET = 'edge-cut-secret-that-is-at-least-32-characters'
const OPERATOR = 'edge-cut-operator-token-at-least-32-characters'
let stack: EdgeStack
let direct: Sql

beforeAll(async () => {
  stack = await startEdgeStack({
    isolates: 2, poolSize: 5, wallClockMs: 0,
    env: {
      JWT_SECRET: SECRET, OPERATOR_TOKEN: OPERATOR, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
      SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '300', SIM_MAX_TOKENS: '300',
      RESUME_LOG_FLUSH_MS: '50', RESUME_BEAT_SECONDS: '0.2', RESUME_DEAD_SECONDS: '1',
    },
    log: () => {},
  })
  direct = postgres(stack.directUrl, { max: 2, onnotice: () => {} })
}, 240_000)

afterAll(async () => {
  await direct?.end({ timeout: 1 })
  await stack?.stop()
}, 60_000)

it('a resume after the generating isolate died gets the stored prefix and stream_cut; the answer is stored as cut and shown', async () => {
  const userId = crypto.randomUUID()
  const chat = chatClient(stack.gatewayUrl, await signUserToken(SECRET, userId))
  const body = { session_id: crypto.randomUUID(), content: 'die mid-answer' }
  const first = await chat(body)
  const streamId = first.headers.get('x-stream-id')!
  const traceId = first.headers.get('x-trace-id')!
  const head = await readFrames(first, (f) => f.id === '6')
  // Some of these frames are in the log: their batch was written (50 ms) before the kill.
  await until(async () => {
    const [row] = await direct`select last_seq from public.chat_streams where stream_id = ${streamId}::uuid`
    return row?.last_seq > 0
  }, 'a batch in the frame log')
  await stack.kill(first.headers.get('x-isolate')!)
  await head.cancel()

  const resumed = await chat(body, { 'x-resume-stream-id': streamId, 'last-event-id': '0' })
  expect(resumed.status).toBe(200)
  const frames = (await readFrames(resumed)).frames
  const last = frames.at(-1)!
  expect(last.event).toBe('error')
  expect(last.data).toMatchObject({ trace_id: traceId, code: 'stream_cut' })
  const prefix = deltasOf(frames)
  expect(seqsOf(frames)).toEqual(range(1, prefix.length))
  expect(prefix.length).toBeGreaterThan(0)
  const common = Math.min(prefix.length, head.frames.length)
  expect(prefix.slice(0, common).map((f) => f.raw)).toEqual(head.frames.slice(0, common).map((f) => f.raw))

  const [answer] = await direct`select status, content, finish_reason from public.messages where id = ${streamId}::uuid`
  expect(answer).toEqual({ status: 'cut', content: textOf(frames), finish_reason: 'stream_cut' })
  // A second resume gets the same ending, without cutting again.
  const again = (await readFrames(await chat(body, { 'x-resume-stream-id': streamId, 'last-event-id': String(prefix.length) }))).frames
  expect(again.map((f) => f.raw)).toEqual([last.raw])

  const api = (path: string) => fetch(`${stack.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
  const shown = await until(async () => {
    const res = await api(`/api/traces/${traceId}`)
    if (res.status !== 200) return undefined
    const trace = await res.json() as { messages: { id: string; status: string }[]; spans: { error_type: string | null }[] }
    return trace.spans.some((s) => s.error_type === 'stream_cut') && trace
  }, 'the trace page with the cut', 30_000)
  expect(shown.messages).toContainEqual(expect.objectContaining({ id: streamId, status: 'cut' }))
  const streams = await (await api(`/api/streams?user=${userId}`)).json() as { streams: { trace_id: string; error_type: string | null }[] }
  expect(streams.streams).toContainEqual(expect.objectContaining({ trace_id: traceId, error_type: 'stream_cut' }))
}, 120_000)
