// The floor for bench:load: the least a Node SSE server can do to serve the same stream. No auth,
// no database, no telemetry, no resume buffer: the simulated provider (same words, same pacing,
// same SIM_* settings) written with the same frame formatter, so the bytes on the wire match the
// real server's. Whatever the real server adds on top of this is its own cost.
//
//   npx tsx bench/floor-server.ts [--port 0] [--host 127.0.0.1]   (prints "floor listening on <url>")
import { once } from 'node:events'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { createSimulatedProvider } from '../functions/providers/simulated.ts'
import { readConfig } from '../shared/config.ts'
import { formatDelta, formatDone } from '../shared/sse/frames.ts'

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } })

// The real server's parsing and defaults for SIM_* and MAX_OUTPUT_TOKENS; the secret is unused here.
const config = readConfig({ ...process.env, JWT_SECRET: 'floor-server-does-not-check-tokens-at-all' })
const provider = createSimulatedProvider(config.simulated)

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')

const server = createServer(async (req, res) => {
  if (req.method !== 'POST' || !req.url?.startsWith('/functions/v1/chat')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}')
    return
  }
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) body += chunk
  let content = 'hello'
  let maxTokens = config.maxOutputTokens
  try {
    const parsed = JSON.parse(body) as { content?: unknown; max_tokens?: unknown }
    if (typeof parsed.content === 'string') content = parsed.content
    if (typeof parsed.max_tokens === 'number') maxTokens = Math.min(maxTokens, parsed.max_tokens)
  } catch { /* the floor answers anything */ }

  const started = performance.now()
  const traceId = hex(16)
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'x-trace-id': traceId,
    'x-chat-transport': 'sse',
  })
  const abort = new AbortController()
  res.on('close', () => abort.abort(new Error('client went away')))
  let seq = 0
  let ttfb = 0
  try {
    for await (const e of provider.stream({ model: config.defaultModel, messages: [{ role: 'user', content }], maxTokens, signal: abort.signal })) {
      if (e.type === 'delta') {
        if (seq === 0) ttfb = performance.now() - started
        seq++
        if (!res.write(formatDelta({ trace_id: traceId, seq, delta: e.text }))) await once(res, 'drain', { signal: abort.signal })
      } else {
        res.end(formatDone({
          trace_id: traceId, message_id: crypto.randomUUID(), finish_reason: e.finish_reason,
          usage: { input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens },
          ttfb_ms: Math.round(ttfb * 10) / 10, duration_ms: Math.round((performance.now() - started) * 10) / 10,
        }))
      }
    }
  } catch {
    res.destroy() // aborted by the client, nothing to finish
  }
})

server.listen(Number(values.port), values.host, () => {
  const { port } = server.address() as { port: number }
  console.log(`floor listening on http://${values.host}:${port}`)
})
const stop = () => { server.closeAllConnections(); server.close(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
