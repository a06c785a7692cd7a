import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClientEngine } from '../../tools/load/client-engine.ts'
import { createRawEngine } from '../../tools/load/raw-engine.ts'
import { runLoad, type LoadOptions } from '../../tools/load/run.ts'

// A fake chat server that answers each request by its first word, so one run can mix behaviours:
//   gappy    deltas 1 2 4 4 5 then done (one lost, one repeated)
//   midfail  deltas 1 2 then an error frame
//   refuse   503 database_unavailable
//   cut      first attempt: deltas 1 2 2 3 then the socket is destroyed; a resume (Last-Event-ID n)
//            gets deltas n+1..5 then done
const TRACE = 'a'.repeat(32)
const delta = (seq: number) => `event: chat.delta\nid: ${seq}\ndata: ${JSON.stringify({ trace_id: TRACE, seq, delta: `w${seq} ` })}\n\n`
const done = (n: number) => `event: chat.done\ndata: ${JSON.stringify({ trace_id: TRACE, message_id: 'm', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: n }, ttfb_ms: 1, duration_ms: 2 })}\n\n`

interface Seen { runIds: Set<string>; resumes: string[] }

async function startFake(): Promise<{ server: Server; url: string; seen: Seen }> {
  const seen: Seen = { runIds: new Set(), resumes: [] }
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = ''
    for await (const c of req) body += c
    seen.runIds.add(String(req.headers['x-streamscope-run-id']))
    const kind = String(JSON.parse(body).content).replace(/^\[[^\]]*\] /, '').split(' ')[0]
    const sse = { 'content-type': 'text/event-stream', 'x-trace-id': TRACE }
    await new Promise((r) => setTimeout(r, 20)) // paces the chats: no busy loop
    if (kind === 'refuse') {
      res.writeHead(503, { 'content-type': 'application/json', 'x-trace-id': TRACE })
      return res.end(JSON.stringify({ error: { code: 'database_unavailable', message: 'down', trace_id: TRACE } }))
    }
    res.writeHead(200, sse)
    if (kind === 'gappy') return res.end([1, 2, 4, 4, 5].map(delta).join('') + done(5))
    if (kind === 'midfail') return res.end(delta(1) + delta(2) + `event: error\ndata: ${JSON.stringify({ trace_id: TRACE, code: 'provider_stream_error', message: 'x' })}\n\n`)
    const from = req.headers['last-event-id']
    if (from === undefined) {
      res.write([1, 2, 2, 3].map(delta).join(''))
      setTimeout(() => res.destroy(), 20)
      return
    }
    seen.resumes.push(`${req.headers['x-resume-trace-id']}@${from}`)
    const next = []
    for (let s = Number(from) + 1; s <= 5; s++) next.push(delta(s))
    res.end(next.join('') + done(5))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen }
}

describe('load runner accounting', () => {
  let fake: Awaited<ReturnType<typeof startFake>>
  beforeAll(async () => { fake = await startFake() })
  afterAll(() => { fake.server.closeAllConnections(); fake.server.close() })

  const base = (o: Partial<LoadOptions>): LoadOptions => ({
    url: fake.url, streams: 2, durationMs: 400, rampMs: 0, prompt: 'gappy', token: () => 't', runId: 'run-test-1',
    // A chat under way when the run stops is let finish (however slow the machine), so every run has finished chats to count.
    engine: createRawEngine(8).engine, keepChats: true, errorPauseMs: 50, drainMs: 20_000, ...o,
  })

  it('counts lost and repeated frames per chat and in total (bare client)', async () => {
    const s = await runLoad(base({ prompt: 'gappy' }))
    const done = s.chat_records!.filter((r) => r.outcome === 'done')
    expect(done.length).toBeGreaterThan(0)
    for (const r of done) expect(r).toMatchObject({ frames: 4, lost: 1, repeated: 1, text: 'w1 w2 w4 w5 ' })
    expect(s.lost_frames).toBe(s.chat_records!.reduce((n, r) => n + r.lost, 0))
    expect(s.repeated_frames).toBe(s.chat_records!.reduce((n, r) => n + r.repeated, 0))
    expect(s.chats.done).toBe(done.length)
    expect(s.tokens).toBe(5 * done.length)
    expect(s.ttfb_ms.count).toBeGreaterThanOrEqual(done.length)
    expect(fake.seen.runIds).toContain('run-test-1')
  })

  it('counts errors by code, before and during the stream', async () => {
    const refused = await runLoad(base({ prompt: 'refuse' }))
    expect(refused.chats.failed).toBeGreaterThan(0)
    expect(refused.errors).toEqual({ 'database_unavailable (503)': refused.chats.failed })
    expect(refused.errors_mid_stream).toEqual({})
    const mid = await runLoad(base({ prompt: 'midfail' }))
    expect(mid.errors).toEqual({ provider_stream_error: mid.chats.failed })
    expect(mid.errors_mid_stream).toEqual({ provider_stream_error: mid.chats.failed })
  })

  it('sees each delta once through the client library, which resumes a cut stream', async () => {
    // The library waits up to its backoff ceiling (500 ms) before resuming: the drain lets it finish.
    const s = await runLoad(base({ prompt: 'cut', streams: 1, durationMs: 200, engine: createClientEngine() }))
    const done = s.chat_records!.filter((r) => r.outcome === 'done')
    expect(done.length).toBeGreaterThan(0)
    for (const r of done) expect(r).toMatchObject({ frames: 5, lost: 0, repeated: 0, resumes: 1, text: 'w1 w2 w3 w4 w5 ' })
    expect(s.resumes).toBeGreaterThanOrEqual(done.length)
    expect(fake.seen.resumes).toContain(`${TRACE}@3`)
  })
})
