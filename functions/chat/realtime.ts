import type { Span } from '@opentelemetry/api'
import type { RealtimeConfig } from '../../shared/config.ts'
import { CHAT_DONE_EVENT, chatTopic } from '../../shared/realtime.ts'
import type { DoneFrame } from '../../shared/sse/frames.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'

/** `userId` is optional only so an older call site still type-checks; without it nothing is sent. */
export type Broadcast = (sessionId: string, done: DoneFrame, span: Span, userId?: string) => Promise<void>

/** realtime-js's own default for a push; a Realtime that hangs must not hold the isolate longer. */
const TIMEOUT_MS = 10_000

export interface BroadcastMessage {
  topic: string
  event: string
  payload: unknown
  private: true
}

export function toBroadcastMessage(userId: string, sessionId: string, done: DoneFrame): BroadcastMessage {
  return { topic: chatTopic(userId, sessionId), event: CHAT_DONE_EVENT, payload: done, private: true }
}

/**
 * Announces `chat.done` on the user's private channel `chat:<user_id>:<session_id>` with one
 * request to Realtime's HTTP broadcast API (`POST <url>/realtime/v1/api/broadcast`, service role
 * key): no WebSocket from a short-lived isolate, and no reliance on supabase-js's implicit REST
 * fallback of `send()`, which is being retired. The service role bypasses the `realtime.messages`
 * policies; who may listen is decided there. Failures are logged; they never fail a stream.
 */
export function createRealtimeBroadcast(config: RealtimeConfig, logger: Logger, fetchImpl: typeof fetch = fetch): Broadcast | undefined {
  if (!config.enabled) return undefined
  const endpoint = `${config.url.replace(/\/+$/, '')}/realtime/v1/api/broadcast`
  const headers = { apikey: config.serviceKey, authorization: `Bearer ${config.serviceKey}`, 'content-type': 'application/json' }
  return async (sessionId, done, span, userId) => {
    if (!userId) return logger.warn('realtime broadcast skipped: no user id', { session_id: sessionId }, span)
    const message = toBroadcastMessage(userId, sessionId, done)
    try {
      const res = await fetchImpl(endpoint, {
        method: 'POST', headers, body: JSON.stringify({ messages: [message] }), signal: AbortSignal.timeout(TIMEOUT_MS),
      })
      const body = await res.text()
      if (!res.ok) logger.warn('realtime broadcast failed', { topic: message.topic, status: res.status, body: body.slice(0, 200) }, span)
    } catch (err) {
      logger.warn('realtime broadcast failed', { topic: message.topic, error: String((err as Error)?.message ?? err) }, span)
    }
  }
}
