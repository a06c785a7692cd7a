// The runbook's client snippet (../shared/seed/runbook.md, "SSE Client Parsing
// Snippet") is what teams already have in their apps. It is naive (LF-only, trims
// data, joins data lines without "\n"), so the server's frames must stay inside what
// it can read: LF endings, one data line of JSON per frame.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createChatFixture } from './support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from './support/db.ts'

/** The snippet's loop, unchanged but for collecting what its handlers would see. */
async function runbookClient(res: Response) {
  const seen: { event: string; data: unknown }[] = []
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buf += decoder.decode(value, { stream: true })
    let idx
    while ((idx = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, idx); buf = buf.slice(idx + 2)
      const lines = frame.split('\n')
      let event = 'message', data = ''
      for (const line of lines) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        if (line.startsWith('data:')) data += line.slice(5).trim()
      }
      if (event === 'chat.delta') seen.push({ event, data: JSON.parse(data) })
      if (event === 'chat.done') seen.push({ event, data: JSON.parse(data) })
      if (event === 'error') seen.push({ event, data: JSON.parse(data) })
    }
  }
  return seen
}

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d'

it('reads every delta and the done frame of a real stream', async () => {
  const f = createChatFixture(db.sql)
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'runbook' }, { token: await f.token(USER) })
  const traceId = res.headers.get('x-trace-id')
  const seen = await runbookClient(res)
  const deltas = seen.filter((s) => s.event === 'chat.delta').map((s) => s.data as { seq: number; delta: string; trace_id: string })
  expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1))
  expect(deltas.every((d) => d.trace_id === traceId)).toBe(true)
  const done = seen.at(-1)!
  expect(done.event).toBe('chat.done')
  const [stored] = await db.sql`select content from messages where trace_id = ${traceId} and role = 'assistant'`
  // Deltas keep their leading spaces inside the JSON string, so even the trimming snippet
  // rebuilds the exact answer.
  expect(deltas.map((d) => d.delta).join('')).toBe(stored.content)
})

it('reads the error frame of a failed stream', async () => {
  const f = createChatFixture(db.sql, { SIM_FAILURE_RATE: '1' })
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'fail' }, { token: await f.token(USER) })
  const seen = await runbookClient(res)
  expect(seen).toEqual([{ event: 'error', data: { trace_id: res.headers.get('x-trace-id'), code: 'provider_unavailable', message: expect.any(String) } }])
})
