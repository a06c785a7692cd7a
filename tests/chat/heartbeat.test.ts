// Heartbeats while the model is slow, without giving up the pull-based body.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseSSE } from '../../shared/sse/parse.ts'
import type { ChatProvider } from '../../functions/providers/types.ts'
import { createBlockReader, createChatFixture, createManualProvider } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const usage = { input_tokens: 1, output_tokens: 2, estimated: false }

/** Waits 2.5 s before the first token and again between the two tokens. */
const slow: ChatProvider = {
  name: 'slow',
  async *stream(req) {
    await sleep(2500)
    yield { type: 'delta', text: 'first' }
    await sleep(2500)
    if (req.signal.aborted) return
    yield { type: 'delta', text: ' second' }
    yield { type: 'done', finish_reason: 'stop', usage, response_model: 'slow-1' }
  },
}

describe('heartbeat', () => {
  it('sends `: heartbeat` comments before the first token and in long gaps; parsers ignore them', async () => {
    const f = createChatFixture(db.sql, { HEARTBEAT_SECONDS: '1' }, slow)
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'take your time' }, { token: await f.token(USER) })
    const [mine, theirs] = res.body!.tee()
    const text = new Response(mine).text()
    const events = []
    for await (const e of parseSSE(theirs)) events.push(e.event)
    const body = await text
    const blocks = body.split('\n\n').filter(Boolean)
    const firstDelta = blocks.findIndex((b) => b.startsWith('event: chat.delta'))
    const secondDelta = blocks.findIndex((b, i) => i > firstDelta && b.startsWith('event: chat.delta'))
    // Timers fire no earlier than scheduled, so at least one lands in each 2.5 s wait.
    expect(blocks.slice(0, firstDelta).filter((b) => b === ': heartbeat').length).toBeGreaterThanOrEqual(1)
    expect(blocks.slice(firstDelta + 1, secondDelta).filter((b) => b === ': heartbeat').length).toBeGreaterThanOrEqual(1)
    expect(blocks.every((b) => b === ': heartbeat' || b.startsWith('event: '))).toBe(true)
    expect(events).toEqual(['chat.delta', 'chat.delta', 'chat.done'])
  }, 20_000)

  it('still reads the model only as fast as the client takes frames (no buffer grows behind a slow client)', async () => {
    const manual = createManualProvider()
    const f = createChatFixture(db.sql, { HEARTBEAT_SECONDS: '1' }, manual.provider)
    manual.delta(...Array.from({ length: 50 }, (_, i) => `t${i} `))
    manual.done()
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'lots' }, { token: await f.token(USER) })
    const blocks = createBlockReader(res.body!)
    await blocks.next()
    await sleep(1500) // the client stalls; a heartbeat interval passes too
    // One frame taken, at most one more asked for: the other 48 are still upstream.
    expect(manual.stats.pulled).toBeLessThanOrEqual(2)
    expect(manual.queued()).toBeGreaterThanOrEqual(48)
    let events = 1
    for (let b = await blocks.next(); b; b = await blocks.next()) if (b.startsWith('event: ')) events++
    expect(events).toBe(51) // 50 deltas + done
  }, 20_000)

  it('queues no heartbeats for a client that stopped reading while the model is silent', async () => {
    const silent: ChatProvider = {
      name: 'silent',
      async *stream() {
        await sleep(5000)
        yield { type: 'delta', text: 'late' }
        yield { type: 'done', finish_reason: 'stop', usage, response_model: 'silent-1' }
      },
    }
    const f = createChatFixture(db.sql, { HEARTBEAT_SECONDS: '1' }, silent)
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'wait' }, { token: await f.token(USER) })
    const blocks = createBlockReader(res.body!)
    expect(await blocks.next()).toBe(': heartbeat\n\n') // the model is asked; its first heartbeat is read
    await sleep(3500) // then three more intervals pass with nobody reading
    const after: string[] = []
    for (let b = await blocks.next(); b && !b.startsWith('event: chat.delta'); b = await blocks.next()) after.push(b)
    // A heartbeat answers a read that waits on the model; none were made for the reads nobody made.
    expect(after.every((b) => b === ': heartbeat\n\n'), JSON.stringify(after)).toBe(true)
    expect(after.length).toBeLessThanOrEqual(1)
  }, 20_000)
})
