import { subscribe, type LiveEvent } from '$lib/server/live'
import type { RequestHandler } from './$types'

const HEARTBEAT_MS = 15_000
const encoder = new TextEncoder()

/**
 * GET /api/live: Server-Sent Events telling an open page that new telemetry arrived
 * (`event: change`), that the database cannot be read (`event: problem`), or that the
 * operator's session ended (`event: expired`, then the stream closes). Behind the same
 * operator check as every route (hooks.server.ts); the session's expiry is re-checked
 * while the stream is open.
 */
export const GET: RequestHandler = ({ locals, request }) => {
  const expiresAt = locals.sessionExpiresAt ?? null
  let cleanup = () => {}
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false
      const send = (text: string) => { if (!closed) controller.enqueue(encoder.encode(text)) }
      const close = () => {
        if (closed) return
        closed = true
        cleanup()
        controller.close()
      }
      const expired = () => expiresAt !== null && Date.now() >= expiresAt
      send(`retry: 2000\n: streamscope live updates\n\n`)
      const unsubscribe = subscribe((event: LiveEvent) => {
        if (expired()) {
          send('event: expired\ndata: session expired\n\n')
          return close()
        }
        if (event.type === 'change') send(`event: change\ndata: ${event.signature}\n\n`)
        else send(`event: problem\ndata: ${event.message.replace(/\s+/g, ' ')}\n\n`)
      })
      const heartbeat = setInterval(() => {
        if (expired()) {
          send('event: expired\ndata: session expired\n\n')
          return close()
        }
        send(': heartbeat\n\n')
      }, HEARTBEAT_MS)
      cleanup = () => {
        clearInterval(heartbeat)
        unsubscribe()
        request.signal.removeEventListener('abort', close)
      }
      request.signal.addEventListener('abort', close)
    },
    cancel() {
      cleanup()
    },
  })
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  })
}
