// The Node entry's SSE writer: the chat handler's pump written straight to the socket.
// Real handler, real database, a real node:http server and a raw TCP client.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChatFixture, createManualProvider } from '../tests/support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../tests/support/db.ts'
import { until } from '../tests/support/wait.ts'
import type { SseBody, SsePump } from '../functions/chat/sse-body.ts'
import { withNodeSse } from './sse-writer.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const USER = '4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b'

async function serve(handler: (req: Request) => Promise<Response>): Promise<{ server: Server; port: number }> {
  const server = createServer(getRequestListener(withNodeSse(handler), { overrideGlobalObjects: false }))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port }
}

describe('Node SSE writer', () => {
  it('sends the handler\'s status and headers, then every frame in order, and reads the model no faster than the socket drains', async () => {
    const manual = createManualProvider()
    const f = createChatFixture(db.sql, {}, manual.provider)
    const { server, port } = await serve(f.handler)
    const big = 'x'.repeat(20_000)
    const DELTAS = 1_000 // 20 MB: far more than the loopback socket buffers hold
    manual.delta(...Array.from({ length: DELTAS }, () => big))
    manual.done()

    const body = JSON.stringify({ session_id: crypto.randomUUID(), content: 'a lot' })
    let serverSide: Socket | undefined
    server.once('connection', (s: Socket) => { serverSide = s })
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(`POST /functions/v1/chat HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${await f.token(USER)}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
    socket.pause() // a client that stops reading
    // The socket buffers are full and the server's writes wait for a drain that cannot come: from
    // here on a writer that respects backpressure reads nothing more (one that does not has by
    // now read all it could).
    await until(() => manual.stats.pulled > 0 && serverSide?.writableNeedDrain, 'the server to be held back by the stalled client')
    const pulledWhileStalled = manual.stats.pulled
    expect(pulledWhileStalled).toBeGreaterThan(0)
    expect(pulledWhileStalled).toBeLessThan(DELTAS / 2) // the rest is still upstream, not buffered in the server

    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.resume()
    await once(socket, 'end')
    const raw = Buffer.concat(chunks).toString('latin1')
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'))
    expect(head).toMatch(/^HTTP\/1\.1 200/)
    expect(head).toMatch(/content-type: text\/event-stream/i)
    expect(head).toMatch(/x-trace-id: [0-9a-f]{32}/i)
    const ids = [...raw.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(ids).toEqual(Array.from({ length: DELTAS }, (_, i) => i + 1))
    expect(raw).toMatch(/event: chat\.done\ndata: /)
    server.close()
  }, 60_000)

  it('writes an SseBody through its pump, never reading the stream', async () => {
    const chunks = [': from the pump\n\n', 'event: chat.done\ndata: {}\n\n']
    const pump: SsePump = { read: () => chunks.shift() ?? null, get complete() { return chunks.length === 0 }, cancel: async () => {} }
    const stream = new ReadableStream<Uint8Array>({ pull(c) { c.error(new Error('read as a stream')) } })
    const body: SseBody = Object.assign(stream, { takePump: () => pump })
    const { server, port } = await serve(async () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }))
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(await res.text()).toBe(': from the pump\n\nevent: chat.done\ndata: {}\n\n')
    expect(stream.locked).toBe(false)
    server.close()
  })

  it('leaves non-SSE responses to the adapter', async () => {
    const f = createChatFixture(db.sql)
    const { server, port } = await serve(f.handler)
    const res = await fetch(`http://127.0.0.1:${port}/functions/v1/chat`, { method: 'POST', body: '{"nope":1}', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(401)
    const json = await res.json() as { error: { code: string; trace_id: string } }
    expect(json.error.code).toBeTruthy()
    expect(json.error.trace_id).toMatch(/^[0-9a-f]{32}$/)
    server.close()
  }, 30_000)
})
