// Node only: SSE bodies written as text straight to the socket. The chat handler returns a web
// Response whose body is an SseBody, a ReadableStream (what Deno.serve and the tests read); here,
// in the Node entry, its pump is taken over instead (SseBody.takePump), which skips the web-stream
// machinery and an encoded copy per frame (bench:load: the difference between holding ~1,000 and
// ~2,000 streams).
import { ServerResponse } from 'node:http'
import type { Http2Bindings, HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { isSseBody, type SsePump } from '../functions/chat/sse-body.ts'

type Fetch = (req: Request) => Response | Promise<Response>

/** Wraps a fetch handler for @hono/node-server's getRequestListener. */
export function withNodeSse(fetch: Fetch) {
  return async (req: Request, env: HttpBindings | Http2Bindings): Promise<Response> => {
    const res = await fetch(req)
    if (!(env.outgoing instanceof ServerResponse)) return res
    const pump = isSseBody(res.body) ? res.body.takePump() : undefined
    if (!pump) return res
    writeSse(res, pump, env.outgoing)
    return RESPONSE_ALREADY_SENT
  }
}

function writeSse(res: Response, pump: SsePump, out: ServerResponse): void {
  let finished = false
  out.on('close', () => { if (!finished) void pump.cancel() })
  out.writeHead(res.status, toNodeHeaders(res.headers))
  out.flushHeaders()
  // Writes what is ready; runs again when the pump has more (wake) or the socket drained.
  const flow = () => {
    for (;;) {
      if (out.destroyed) return // closed: the close handler cancelled the pump
      const chunk = pump.read(flow)
      if (chunk === undefined) return
      if (chunk === null || pump.complete) {
        finished = true
        out.end(chunk ?? undefined)
        return
      }
      if (!out.write(chunk)) return void out.once('drain', flow)
    }
  }
  flow()
}

function toNodeHeaders(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {}
  headers.forEach((value, key) => { if (key !== 'set-cookie') record[key] = value })
  const cookies = headers.getSetCookie()
  if (cookies.length) record['set-cookie'] = cookies
  return record
}
