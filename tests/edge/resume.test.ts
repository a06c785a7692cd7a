// Resume and Idempotency-Key across isolates, on the shared edge stack (2 chat isolates behind a
// non-sticky gateway, PgBouncer in transaction mode): the stream's frames come from its frame log
// in Postgres when the request lands on an isolate that does not hold it.
import { afterAll, expect, it } from 'vitest'
import { edgeStack } from '../support/edge.ts'
import { until } from '../support/wait.ts'
import { chatClient, deltasOf, onAnotherIsolate, range, readFrames, seqsOf, textOf } from './resume-support.ts'

const edge = edgeStack()
const direct = edge.direct()
afterAll(() => direct.end({ timeout: 1 }))

async function user() {
  const id = crypto.randomUUID()
  return { id, chat: chatClient(edge.gatewayUrl, await edge.userToken(id)) }
}

const stored = (userId: string) =>
  direct`select role, status, content, id::text as id from public.messages where user_id = ${userId} order by created_at, role desc`

it('a resume on another isolate gets exactly the missing frames, then follows the live stream to chat.done', async () => {
  const u = await user()
  const body = { session_id: crypto.randomUUID(), content: 'resume me elsewhere', max_tokens: 60 } // 3 s at 20 a second
  const leave = new AbortController()
  const first = await u.chat(body, {}, leave.signal)
  const isolate = first.headers.get('x-isolate')!
  const streamId = first.headers.get('x-stream-id')!
  const head = await readFrames(first, (f) => f.id === '4')
  leave.abort()
  await head.cancel()
  expect(seqsOf(head.frames)).toEqual([1, 2, 3, 4])

  const resumed = await onAnotherIsolate(isolate, () => u.chat(body, { 'x-resume-stream-id': streamId, 'last-event-id': '4' }))
  expect(resumed.status).toBe(200)
  expect(resumed.headers.get('x-stream-id')).toBe(streamId)
  expect(resumed.headers.get('x-trace-id')).toBe(first.headers.get('x-trace-id'))
  expect(resumed.headers.get('x-resumed-from')).toBe('4')
  const rest = (await readFrames(resumed)).frames
  expect(rest.at(-1)!.event).toBe('chat.done')
  expect(rest.at(-1)!.data.message_id).toBe(streamId)
  expect(seqsOf(rest)).toEqual(range(5, 60))
  const rows = await until(async () => { const r = await stored(u.id); return r.length === 2 && r }, 'the stored answer')
  expect(rows[1]).toMatchObject({ role: 'assistant', status: 'complete', id: streamId })
  expect(textOf(head.frames) + textOf(rest)).toBe(rows[1].content)
}, 60_000)

it('a repeated Idempotency-Key on another isolate replays and follows the first request’s stream: one answer, generated once', async () => {
  const u = await user()
  const key = crypto.randomUUID()
  const body = { session_id: crypto.randomUUID(), content: 'ask me once', max_tokens: 40 }
  const leave = new AbortController()
  const first = await u.chat(body, { 'idempotency-key': key }, leave.signal)
  const isolate = first.headers.get('x-isolate')!
  const streamId = first.headers.get('x-stream-id')!
  const head = await readFrames(first, (f) => f.id === '2')
  leave.abort()
  await head.cancel()

  const repeat = await onAnotherIsolate(isolate, () => u.chat(body, { 'idempotency-key': key }))
  expect(repeat.status).toBe(200)
  expect(repeat.headers.get('x-stream-id')).toBe(streamId)
  const frames = (await readFrames(repeat)).frames
  expect(seqsOf(frames)).toEqual(range(1, 40))
  expect(frames.slice(0, 2).map((f) => f.raw)).toEqual(head.frames.map((f) => f.raw)) // byte for byte
  expect(frames.at(-1)!.data.message_id).toBe(streamId)
  const rows = await until(async () => { const r = await stored(u.id); return r.length >= 2 && r }, 'the stored messages')
  expect(rows.map((r) => [r.role, r.status])).toEqual([['user', 'complete'], ['assistant', 'complete']])
  expect(rows[1].content).toBe(textOf(frames))
}, 60_000)

it('a reader that leaves does not stop the answer: it is generated to its end and stored complete', async () => {
  const u = await user()
  const leave = new AbortController()
  const res = await u.chat({ session_id: crypto.randomUUID(), content: 'finish without me', max_tokens: 30 }, {}, leave.signal)
  const head = await readFrames(res, (f) => f.event === 'chat.delta')
  leave.abort()
  await head.cancel()
  const rows = await until(async () => { const r = await stored(u.id); return r.length === 2 && r }, 'the answer stored without a reader')
  expect(rows[1]).toMatchObject({ role: 'assistant', status: 'complete' })
  const [answer] = await direct`select output_tokens from public.messages where id = ${rows[1].id}::uuid`
  expect(answer.output_tokens).toBe(30)
  expect(deltasOf(head.frames)).toHaveLength(1)
}, 60_000)
