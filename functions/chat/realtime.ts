import type { Span } from '@opentelemetry/api'
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import type { RealtimeConfig } from '../../shared/config.ts'
import type { DoneFrame } from '../../shared/sse/frames.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'

class NoSocket {
  constructor() {
    throw new Error('realtime broadcasts go over HTTP; no WebSocket is opened')
  }
}

export type Broadcast = (sessionId: string, done: DoneFrame, span: Span) => Promise<void>

/**
 * Announces `chat.done` on the session's Realtime channel `chat:<session_id>`. The
 * channel is never subscribed, so supabase-js sends it with one HTTP request to the
 * broadcast endpoint (`POST <url>/realtime/v1/api/broadcast`) instead of opening a
 * WebSocket from a short-lived isolate. Failures are logged; they never fail a stream.
 */
export function createRealtimeBroadcast(config: RealtimeConfig, logger: Logger): Broadcast | undefined {
  if (!config.enabled) return undefined
  let client: SupabaseClient | undefined
  return async (sessionId, done, span) => {
    try {
      client ??= createClient(config.url, config.serviceKey, {
        auth: { persistSession: false, autoRefreshToken: false },
        // Node 20 has no WebSocket and realtime-js refuses to start without one; no socket is
        // ever opened here (the channel is not subscribed), so a stand-in that cannot connect will do.
        ...(typeof WebSocket === 'undefined' ? { realtime: { transport: NoSocket as never } } : {}),
      })
      const channel = client.channel(`chat:${sessionId}`)
      try {
        const result = await channel.send({ type: 'broadcast', event: 'chat.done', payload: done })
        if (result !== 'ok') logger.warn('realtime broadcast failed', { channel: `chat:${sessionId}`, result }, span)
      } finally {
        await client.removeChannel(channel)
      }
    } catch (err) {
      logger.warn('realtime broadcast failed', { channel: `chat:${sessionId}`, error: String((err as Error)?.message ?? err) }, span)
    }
  }
}
