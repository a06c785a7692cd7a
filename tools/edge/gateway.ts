// The stack's front door, one origin as on Supabase: `/functions/v1/<name>/*` to a random serving
// isolate of that function (each request chosen anew: no stickiness), the stack's own view at
// `/_stack/*`, and the dashboard (plus the local sign-in) everywhere else. Bodies are piped both
// ways as they come, so SSE frames pass one by one; a client that goes away closes the isolate's
// connection, which aborts the request there.
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { NodeHandler } from '../../server/dashboard.ts'
import type { IsolatePool } from './isolates.ts'

export interface GatewayOptions {
  pool: Pick<IsolatePool, 'waitForServing' | 'list' | 'exits' | 'kill'>
  functions: string[]
  dashboard: NodeHandler
  /** Routes under /local-auth/ (the development sign-in `npm start` has too). */
  localAuth?: (req: IncomingMessage, res: ServerResponse) => void
  /** How long a request waits for an isolate of its function while none serves (all starting). */
  waitForIsolateMs?: number
}

const FUNCTION_PATH = /^\/functions\/v1\/([^/?]+)(.*)$/
const KILL_PATH = /^\/_stack\/isolates\/([^/?]+)\/kill$/
/** RFC 9110 §7.6.1 connection-specific fields, plus what the outgoing side sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** The functions' error shape, for what the gateway itself refuses. */
function sendError(res: ServerResponse, status: number, code: string, message: string, headers: OutgoingHttpHeaders = {}) {
  const traceId = crypto.randomUUID().replaceAll('-', '')
  sendJson(res, status, { error: { code, message, trace_id: traceId } }, { 'x-trace-id': traceId, ...headers })
}

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  return out
}

/**
 * Forwards to the isolate at `port`, as `path` (Supabase's gateway hands a function
 * `/<name>/…`, without `/functions/v1`). A new connection per request: a recycled isolate
 * is never handed a request on a kept-alive socket it is closing.
 */
function forward(req: IncomingMessage, res: ServerResponse, target: { id: string; port: number }, path: string, done: () => void) {
  res.once('close', done)
  const headers = { ...endToEnd(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-forwarded-host': req.headers.host ?? '' }
  const upstream = httpRequest({ host: '127.0.0.1', port: target.port, method: req.method, path, headers, agent: false })
  upstream.on('socket', (socket) => socket.setNoDelay(true))
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, { ...endToEnd(answer.headers), 'x-isolate': target.id })
    res.flushHeaders()
    answer.pipe(res)
    // The isolate went away mid-body (killed, recycled): the client sees its connection cut, as on the platform.
    answer.once('close', () => { if (!answer.complete) res.destroy() })
    answer.on('error', () => res.destroy())
  })
  upstream.on('error', (err) => {
    if (res.headersSent || res.destroyed) return void res.destroy()
    sendError(res, 502, 'isolate_unavailable', `the isolate ${target.id} went away before answering (${err.message})`, { 'x-isolate': target.id, 'retry-after': '1' })
  })
  // A client that leaves before the end: the isolate's connection closes too (its request.signal aborts).
  res.once('close', () => { if (!res.writableFinished) upstream.destroy() })
  req.pipe(upstream)
}

async function routeFunction(o: GatewayOptions, req: IncomingMessage, res: ServerResponse, name: string, rest: string) {
  if (!o.functions.includes(name)) return sendError(res, 404, 'not_found', `no function named ${name}`)
  let left = false
  res.once('close', () => { left = true })
  const isolate = await o.pool.waitForServing(name, o.waitForIsolateMs ?? 30_000)
  if (left) return
  if (!isolate) return sendError(res, 503, 'isolate_unavailable', `no isolate of ${name} is serving`, { 'retry-after': '1' })
  forward(req, res, isolate.info, `/${name}${rest}`, isolate.begin())
}

function routeStack(o: GatewayOptions, req: IncomingMessage, res: ServerResponse, path: string) {
  if (req.method === 'GET' && path === '/_stack/isolates') return sendJson(res, 200, o.pool.list())
  if (req.method === 'GET' && path === '/_stack/exits') return sendJson(res, 200, o.pool.exits())
  const kill = KILL_PATH.exec(path)
  if (kill && req.method === 'POST') {
    return o.pool.kill(decodeURIComponent(kill[1]!)) ? void res.writeHead(204).end() : sendError(res, 404, 'not_found', `no live isolate ${kill[1]}`)
  }
  sendError(res, 404, 'not_found', `no stack route ${req.method} ${path}`)
}

export function createGateway(o: GatewayOptions): Server {
  return createServer({ noDelay: true }, (req, res) => {
    const url = req.url ?? '/'
    const path = url.split('?')[0]!
    const fn = FUNCTION_PATH.exec(url)
    if (fn) {
      return void routeFunction(o, req, res, fn[1]!, fn[2]!).catch((err: Error) => {
        if (!res.headersSent) sendError(res, 502, 'isolate_unavailable', err.message)
        else res.destroy()
      })
    }
    if (path.startsWith('/_stack/')) return routeStack(o, req, res, path)
    if (o.localAuth && path.startsWith('/local-auth/')) return o.localAuth(req, res)
    o.dashboard(req, res, () => sendError(res, 404, 'not_found', `nothing at ${path}`))
  })
}
