import type { Sql } from 'postgres'
import { createJwtVerifier } from '../../shared/auth/jwt.ts'
import type { Config } from '../../shared/config.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Telemetry } from '../../shared/telemetry/telemetry.ts'
import type { ChatProvider } from '../providers/types.ts'
import { maxBodyBytes } from '../body.ts'
import { errorText } from '../gate.ts'
import { createRateLimiter } from '../rate-limit.ts'
import { createTraceOwners } from '../trace-owners.ts'
import { createBeaconHandler } from './beacon.ts'
import { createFlagReader } from './flags.ts'
import { createMessageStore } from './messages.ts'
import { createRealtimeBroadcast, type Broadcast } from './realtime.ts'
import { createResumeBuffer, type ResumeBuffer } from './resume-buffer.ts'
import { createStreamLogStore } from './stream-log-store.ts'

export interface ChatDeps {
  config: Config
  sql: Sql
  telemetry: Telemetry
  provider: ChatProvider
  /** Supabase's EdgeRuntime.waitUntil: keeps the isolate alive until the stream's bookkeeping is written. */
  waitUntil?: (work: Promise<unknown>) => void
  /** The process's resume buffer (one is made when absent). */
  resumeBuffer?: ResumeBuffer
  /** Realtime `chat.done` announcer; null turns it off, absent builds it from config. */
  broadcast?: Broadcast | null
}

export type Transport = 'sse' | 'http'

/** The span attributes of a query on public.messages (an insert unless overridden). */
export const MESSAGES_DB = { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' }

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/** What every part of the chat handler shares, built once per isolate. */
export function createChatContext(deps: ChatDeps) {
  const { config, telemetry } = deps
  const { logger } = telemetry
  const later = (work: Promise<unknown>) => deps.waitUntil?.(work.then(() => telemetry.flush()).catch(() => {}))
  const buffer = deps.resumeBuffer ?? createResumeBuffer({
    retentionMs: config.resumeRetentionSeconds * 1000,
    maxStreams: config.resumeMaxStreams,
    maxBytes: config.resumeMaxBytes,
    maxStreamBytes: config.resumeMaxStreamBytes,
  })
  const verify = createJwtVerifier(config)
  const owners = createTraceOwners(deps.sql)
  const limiter = createRateLimiter(deps.sql, config.rateLimit)
  return {
    ...deps, tracer: telemetry.tracer, logger, later, buffer, verify, owners, limiter,
    messages: createMessageStore(deps.sql),
    flags: createFlagReader(deps.sql, config.flagCacheSeconds * 1000,
      (err) => logger.warn('feature flag read failed; using the last known value', { error: errorText(err) })),
    /** The frame log in Postgres: what lets any isolate resume a stream. Off with resume. */
    log: config.resumeRetentionSeconds > 0
      ? createStreamLogStore(deps.sql, { retentionSeconds: config.resumeRetentionSeconds, deadSeconds: config.resumeLog.deadSeconds })
      : undefined,
    broadcast: deps.broadcast === null ? undefined : deps.broadcast ?? createRealtimeBroadcast(config.realtime, logger),
    bodyLimit: maxBodyBytes(config.maxContentChars),
    heartbeatMs: config.heartbeatSeconds * 1000,
    // x-heartbeat-seconds tells a client how long silence may last on a live stream: past a few
    // heartbeats it is a half-open connection, to be resumed rather than waited on.
    streamHeaders: { ...sseHeaders, 'x-heartbeat-seconds': String(config.heartbeatSeconds) },
    beacon: createBeaconHandler({
      sql: deps.sql, tracer: telemetry.tracer, logger, verify, buffer, owners, limiter, ended: () => later(Promise.resolve()),
    }),
  }
}

export type ChatContext = ReturnType<typeof createChatContext>
