import { SESSION_COOKIE } from '$lib/server/auth'
import { readTelemetry } from '$lib/server/db'
import { subscribe, type LiveEvent } from '$lib/server/live'
import { operatorToken } from '$lib/server/operator-auth'
import { readSession, tokenEpoch } from '$lib/server/operator-sessions'
import type { RequestEvent, RequestHandler } from './$types'

const HEARTBEAT_MS = 15_000
/** How often an open stream asks Postgres whether its session still holds: logout, from any process, ends it within this. */
const SESSION_CHECK_MS = 5_000
const encoder = new TextEncoder()

/**
 * Whether the stream's session has ended: run out, or (a cookie session) closed by a logout in any
 * dashboard process or by a rotated OPERATOR_TOKEN. A database that cannot answer ends nothing:
 * the stream reports that as a `problem` already.
 */
function sessionEnded(event: RequestEvent, expiresAt: number | null): () => Promise<boolean> {
  const id = event.cookies.get(SESSION_COOKIE)
  return async () => {
    if (expiresAt !== null && Date.now() >= expiresAt) return true
    if (!id) return false
    try {
      return (await readTelemetry((sql) => readSession(sql, id, tokenEpoch(operatorToken())))) === null
    } catch {
      return false
    }
  }
}

/**
 * GET /api/live: Server-Sent Events telling an open page that new telemetry arrived
 * (`event: change`), that the database cannot be read (`event: problem`), or that the
 * operator's session ended (`event: expired`, then the stream closes). Behind the same
 * operator check as every route (hooks.server.ts); the session is checked again while the
 * stream is open.
 */
export const GET: RequestHandler = (event) => {
  const ended = sessionEnded(event, event.locals.sessionExpiresAt ?? null)
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
      const checkSession = async () => {
        if (!closed && await ended()) {
          send('event: expired\ndata: session ended\n\n')
          close()
        }
      }
      send(`retry: 2000\n: streamscope live updates\n\n`)
      const unsubscribe = subscribe((e: LiveEvent) => {
        if (e.type === 'change') send(`event: change\ndata: ${e.signature}\n\n`)
        else send(`event: problem\ndata: ${e.message.replace(/\s+/g, ' ')}\n\n`)
      })
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS)
      const sessionCheck = setInterval(() => void checkSession(), SESSION_CHECK_MS)
      cleanup = () => {
        clearInterval(heartbeat)
        clearInterval(sessionCheck)
        unsubscribe()
        event.request.signal.removeEventListener('abort', close)
      }
      event.request.signal.addEventListener('abort', close)
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
