// One chat stream end to end: its request span row carries the whole stream
// (frame arrival offsets, counts, end, cost) and the minute rollup counts it.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { until } from '../support/wait.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

it('stores the stream record on the request span, priced, and rolls it up', async () => {
  const f = createChatFixture(db.sql)
  const user = '3f2e1d0c-9b8a-4766-8554-433221100fed'
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'count to ten' }, {
    token: await f.token(user), headers: { 'x-streamscope-run-id': 'run-stream-record' },
  })
  const frames = framesOf(await res.text())
  const deltas = frames.filter((x) => x.event === 'chat.delta')
  expect(frames.at(-1)!.event).toBe('chat.done')
  const traceId = res.headers.get('x-trace-id')!
  await f.telemetry.flush()

  const row: Record<string, any> = await until(async () => {
    await f.telemetry.flush()
    return (await db.sql`select * from telemetry.spans where trace_id = ${traceId} and kind = 'server' and parent_span_id is null`)[0]
  }, 'the request span row')
  expect(row).toMatchObject({ function: 'chat', model: 'sim-1', end_reason: 'done', http_status: 200, frames: deltas.length, run_id: 'run-stream-record' })
  expect(row!.frame_offsets_ms).toHaveLength(deltas.length)
  const offsets = row!.frame_offsets_ms.map(Number)
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
  expect(row!.bytes).toBeGreaterThan(0)
  expect(Number(row!.cost_usd)).toBeGreaterThan(0) // sim-1 is priced like gpt-4o-mini
  expect(row!.attributes).not.toHaveProperty(['streamscope.stream.frame_offsets_ms']) // stored once, in its column

  const [roll] = await db.sql`
    select sum(requests)::int as requests, sum(frames)::int as frames, sum(cost_usd)::text as cost
    from telemetry.rollup_minute where user_id = ${user} and function = 'chat' and status = 'ok'`
  expect(roll).toMatchObject({ requests: 1, frames: deltas.length })
  expect(Number(roll.cost)).toBeCloseTo(Number(row!.cost_usd), 8)
})
