// A stand-in for the parts of Supabase Realtime (and Auth) the chat.done path touches: the
// `realtime` schema the service creates, the broadcast HTTP API, and the Phoenix WebSocket a
// supabase-js channel joins. A private join is authorized the way Realtime does it
// (lib/realtime/tenants/authorization.ex): rows for the topic inserted as the owner, read back as
// the JWT's role with `realtime.topic` and `request.jwt.claims` set, in a rolled-back
// transaction, so the policy the migration installed decides. Only what the tests need.
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { jwtVerify } from 'jose'
import type { Sql } from 'postgres'

/** Shaped like Supabase's: the columns the policy reads and realtime.topic() as Realtime defines it. */
export const REALTIME_SCHEMA = `
  create schema realtime;
  grant usage on schema realtime to anon, authenticated;
  create table realtime.messages (
    id uuid primary key default gen_random_uuid(),
    topic text not null,
    extension text not null,
    payload jsonb,
    event text,
    private boolean default false
  );
  grant select, insert on realtime.messages to anon, authenticated;
  create function realtime.topic() returns text language sql stable
    as $$ select nullif(current_setting('realtime.topic', true), '')::text $$;
  grant execute on function realtime.topic() to anon, authenticated;
`

export interface Join { topic: string; private: boolean; sub: string | null; accepted: boolean; reason?: string }

export interface RealtimeStandIn {
  url: string
  /** Every channel join, in order, with what the stand-in answered. */
  joins: Join[]
  /** Every message of every broadcast API call, with the sockets (join indexes) it reached. */
  broadcasts: { topic: string; event: string; private: boolean; deliveredTo: number[] }[]
  close(): Promise<void>
}

const rolledBack = Symbol('rolled back')

/** Realtime's read check for a broadcast join. */
export async function mayReadBroadcast(sql: Sql, claims: Record<string, unknown>, topic: string): Promise<boolean> {
  let allowed = false
  await sql.begin(async (tx) => {
    const [row] = await tx`insert into realtime.messages (topic, extension) values (${topic}, 'broadcast') returning id`
    await tx`select set_config('role', ${String(claims.role ?? 'anon')}, true), set_config('realtime.topic', ${topic}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`
    allowed = (await tx`select 1 from realtime.messages where id = ${row!.id}`).length === 1
    throw rolledBack
  }).catch((err) => { if (err !== rolledBack) throw err })
  return allowed
}

// RFC 6455, server side: the handshake, masked client frames in, unmasked text frames out.
function accept(req: IncomingMessage, socket: Duplex) {
  const key = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${key}\r\n\r\n`)
}

function frame(text: string): Buffer {
  const data = Buffer.from(text)
  const head = data.length < 126 ? Buffer.from([0x81, data.length])
    : data.length < 65536 ? Buffer.from([0x81, 126, data.length >> 8, data.length & 255])
    : (() => { const h = Buffer.alloc(10); h[0] = 0x81; h[1] = 127; h.writeBigUInt64BE(BigInt(data.length), 2); return h })()
  return Buffer.concat([head, data])
}

function readFrames(socket: Duplex, onText: (text: string) => void) {
  let buffered = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    for (;;) {
      if (buffered.length < 2) return
      const opcode = buffered[0]! & 0x0f
      let length = buffered[1]! & 0x7f
      let offset = 2
      if (length === 126) { if (buffered.length < 4) return; length = buffered.readUInt16BE(2); offset = 4 }
      else if (length === 127) { if (buffered.length < 10) return; length = Number(buffered.readBigUInt64BE(2)); offset = 10 }
      if (buffered.length < offset + 4 + length) return
      const mask = buffered.subarray(offset, offset + 4)
      const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length)).map((b, i) => b ^ mask[i % 4]!)
      buffered = buffered.subarray(offset + 4 + length)
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]))
      if (opcode === 0x1) onText(Buffer.from(payload).toString('utf8'))
    }
  })
}

export async function startRealtimeStandIn(o: { sql: Sql; jwtSecret: string; serviceKey: string }): Promise<RealtimeStandIn> {
  const secret = new TextEncoder().encode(o.jwtSecret)
  const joins: Join[] = []
  const broadcasts: RealtimeStandIn['broadcasts'] = []
  const subscribers: { join: number; topic: string; private: boolean; send: (msg: unknown[]) => void }[] = []
  const sockets = new Set<Duplex>()

  async function claimsOf(token: unknown): Promise<Record<string, unknown> | null> {
    if (typeof token !== 'string') return null
    try {
      return (await jwtVerify(token, secret, { audience: 'authenticated' })).payload as Record<string, unknown>
    } catch {
      return null
    }
  }

  async function onJoin(topic: string, payload: any, send: (msg: unknown[]) => void): Promise<{ ok: boolean; reason?: string }> {
    const isPrivate = payload?.config?.private === true
    const claims = await claimsOf(payload?.access_token)
    const join: Join = { topic, private: isPrivate, sub: (claims?.sub as string) ?? null, accepted: false }
    const index = joins.push(join) - 1
    if (isPrivate && !claims) join.reason = 'Unauthorized: invalid or missing token'
    else if (isPrivate && !(await mayReadBroadcast(o.sql, claims!, topic))) join.reason = 'Unauthorized: You do not have permissions to read from this Channel topic'
    join.accepted = !join.reason
    if (join.accepted) subscribers.push({ join: index, topic, private: isPrivate, send })
    return join.accepted ? { ok: true } : { ok: false, reason: join.reason }
  }

  function onSocket(socket: Duplex) {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    const send = (msg: unknown[]) => { if (!socket.destroyed) socket.write(frame(JSON.stringify(msg))) }
    readFrames(socket, (text) => {
      const [joinRef, ref, fullTopic, event, payload] = JSON.parse(text) as [string | null, string | null, string, string, any]
      const reply = (status: 'ok' | 'error', response: unknown) => send([joinRef, ref, fullTopic, 'phx_reply', { status, response }])
      if (event === 'heartbeat' || event === 'access_token') return reply('ok', {})
      if (event === 'phx_leave') return reply('ok', {})
      if (event !== 'phx_join') return
      const topic = fullTopic.replace(/^realtime:/, '')
      void onJoin(topic, payload, send).then((r) =>
        r.ok ? reply('ok', { postgres_changes: [] }) : reply('error', { reason: r.reason }))
    })
  }

  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => { body += d })
    req.on('end', async () => {
      const path = new URL(req.url!, 'http://x').pathname
      if (req.method === 'GET' && path === '/auth/v1/user') {
        // What GoTrue answers for a valid access token (supabase-js asks it in setSession).
        const claims = await claimsOf(String(req.headers.authorization ?? '').replace(/^Bearer /, ''))
        if (!claims) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"msg":"invalid JWT"}')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          id: claims.sub, aud: 'authenticated', role: 'authenticated', email: 'user@example.test',
          app_metadata: {}, user_metadata: {}, created_at: new Date(0).toISOString(),
        }))
      }
      if (req.method === 'POST' && path === '/realtime/v1/api/broadcast') {
        if (req.headers.apikey !== o.serviceKey || req.headers.authorization !== `Bearer ${o.serviceKey}`) {
          return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"invalid key"}')
        }
        for (const m of (JSON.parse(body) as { messages: { topic: string; event: string; payload: unknown; private?: boolean }[] }).messages) {
          // Private messages reach private joins only, public ones public joins only.
          const to = subscribers.filter((s) => s.topic === m.topic && s.private === (m.private === true))
          broadcasts.push({ topic: m.topic, event: m.event, private: m.private === true, deliveredTo: to.map((s) => s.join) })
          for (const s of to) s.send([null, null, `realtime:${m.topic}`, 'broadcast', { type: 'broadcast', event: m.event, payload: m.payload }])
        }
        return void res.writeHead(202).end()
      }
      res.writeHead(404).end()
    })
  })
  server.on('upgrade', (req, socket) => {
    if (!req.url?.startsWith('/realtime/v1/websocket')) return void socket.destroy()
    accept(req, socket)
    onSocket(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    joins,
    broadcasts,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}
