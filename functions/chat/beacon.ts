import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type SpanContext, type Tracer } from '@opentelemetry/api'
import type { Sql } from 'postgres'
import type { VerifiedUser } from '../../shared/auth/jwt.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { extractContext, inSpan } from '../../shared/telemetry/spans.ts'
import { readJsonBody } from '../body.ts'
import { admit, authenticate, errorText, openGate } from '../gate.ts'
import type { RateLimiter } from '../rate-limit.ts'
import type { TraceOwners } from '../trace-owners.ts'
import type { ResumeBuffer } from './resume-buffer.ts'

export const BEACON_ROUTE = '/functions/v1/chat/beacon'

export interface BeaconDeps {
  sql: Sql
  tracer: Tracer
  logger: Logger
  verify: (authorization: string | null) => Promise<VerifiedUser>
  buffer: ResumeBuffer
  owners: TraceOwners
  limiter: RateLimiter
  /** Supabase: keep the isolate until the spans are written. */
  ended(): void
}

/** The answer a beacon times: by stream id (`x-stream-id`, = chat.done's message_id), or, from older clients, by trace id. */
type Timed = { stream_id: string; trace_id?: undefined } | { trace_id: string; stream_id?: undefined }
interface Beacon { chat: Timed; ttfbMs: number | null; durationMs: number }

const STREAM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const TRACE_ID = /^[0-9a-f]{32}$/
const HOUR_MS = 3_600_000
const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= HOUR_MS

/** The beacon's fields, or why they are not one. */
export function toBeacon(value: unknown): Beacon | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body must be a JSON object'
  const { stream_id, trace_id, client_ttfb_ms, client_duration_ms } = value as Record<string, unknown>
  let chat: Timed
  if (stream_id !== undefined) {
    if (typeof stream_id !== 'string' || !STREAM_ID.test(stream_id)) return 'stream_id must be the x-stream-id of the chat (a lowercase UUID)'
    chat = { stream_id }
  } else if (typeof trace_id === 'string' && TRACE_ID.test(trace_id)) {
    chat = { trace_id }
  } else {
    return 'stream_id (the x-stream-id of the chat) is required'
  }
  if (client_ttfb_ms !== null && !isMs(client_ttfb_ms)) return 'client_ttfb_ms must be null or a number of ms in [0, 3600000]'
  if (!isMs(client_duration_ms)) return 'client_duration_ms must be a number of ms in [0, 3600000]'
  if (client_ttfb_ms !== null && client_ttfb_ms > client_duration_ms) return 'client_ttfb_ms cannot be greater than client_duration_ms'
  return { chat, ttfbMs: client_ttfb_ms, durationMs: client_duration_ms }
}

/**
 * POST /functions/v1/chat/beacon {stream_id, client_ttfb_ms, client_duration_ms}: what the
 * client saw, recorded as a `client timing` span inside the chat's own trace (a child of
 * its request span when that can be found), so a trace shows client beside server TTFB.
 * Admitted like every request (request span, auth, the per-user rate limit), and taken
 * once per answer, only from the user who owns it: a repeat is 409 and writes no span there.
 */
export function createBeaconHandler(d: BeaconDeps): (req: Request) => Promise<Response> {
  const answers = createBeaconStore(d.sql)
  return async function handleBeacon(req: Request): Promise<Response> {
    const gate = openGate({
      tracer: d.tracer, logger: d.logger, fn: 'chat', route: BEACON_ROUTE, req, parent: extractContext(req.headers),
      owners: d.owners, counted: false, ended: d.ended,
    })
    const { reject } = gate
    if (req.method !== 'POST') return reject('method_not_allowed', 'use POST', { allow: 'POST' })
    const userId = await authenticate(gate, d.tracer, d.verify, req)
    if (userId instanceof Response) return userId
    if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) return reject('unsupported_media_type', 'content-type must be application/json')
    const body = await readJsonBody(req, 4096)
    if (!body.ok) return reject(body.code, body.message)
    const beacon = toBeacon(body.value)
    if (typeof beacon === 'string') return reject('invalid_request', beacon)
    const decision = await admit(gate, d, userId, 0)
    if (decision instanceof Response) return decision

    const { root } = gate
    let parent!: SpanContext
    try {
      const answer = await inSpan(d.tracer, root, 'insert chat_beacons', {
        [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'chat_beacons',
      }, () => answers.take(beacon.chat, userId))
      if (!answer) return reject('not_found', 'no answer of yours has this stream_id')
      if (!answer.first) return reject('duplicate_request', 'the timing of this answer was already recorded')
      root.setAttribute(ATTR.streamId, answer.message_id)
      const held = d.buffer.get(answer.message_id)
      parent = held?.userId === userId ? held.run.root.spanContext() : await answers.requestSpan(answer)
    } catch (err) {
      d.logger.error('client beacon dropped: database unavailable', { error: errorText(err) }, root)
      return reject('database_unavailable', 'could not check the chat; the timing was not recorded', { 'retry-after': '1' })
    }
    // Without the request span (not yet written, another isolate) the span still joins the
    // chat's trace, under a parent id that matches nothing; the trace page shows it at the top.
    const context = trace.setSpanContext(ROOT_CONTEXT, parent)
    const span = d.tracer.startSpan('client timing', {
      kind: SpanKind.INTERNAL,
      links: [{ context: root.spanContext() }],
      attributes: {
        [ATTR.clientDurationMs]: beacon.durationMs,
        ...(beacon.ttfbMs !== null ? { [ATTR.clientTtfbMs]: beacon.ttfbMs } : {}),
        [ATTR.userId]: userId,
      },
    }, context)
    span.end()
    root.setAttribute(ATTR.httpStatus, 204)
    root.end()
    d.ended()
    return new Response(null, { status: 204, headers: gate.headers })
  }
}

interface TimedAnswer { message_id: string; trace_id: string; created_at: Date; first: boolean }

function createBeaconStore(sql: Sql) {
  return {
    /**
     * Claims the answer's one beacon: undefined when the user has no such answer, `first`
     * false when its beacon was already taken. One statement, so it is the ownership
     * check too, and two racing beacons get one `first`.
     */
    async take(chat: Timed, userId: string): Promise<TimedAnswer | undefined> {
      const which = chat.stream_id !== undefined ? sql`id = ${chat.stream_id}::uuid` : sql`trace_id = ${chat.trace_id}`
      const [row] = await sql<TimedAnswer[]>`
        with answer as (
          select id, trace_id, created_at from public.messages
          where ${which} and user_id = ${userId}::uuid and role = 'assistant' and trace_id is not null
          order by created_at desc limit 1
        ), taken as (
          insert into public.chat_beacons (message_id, user_id) select id, ${userId}::uuid from answer
          on conflict (message_id) do nothing
          returning message_id
        )
        select id::text as message_id, trace_id, created_at, exists (select 1 from taken) as first from answer`
      return row
    },
    /**
     * The chat's request span as written (or a stand-in id in its trace). Bounded in time
     * around the answer's storing, so only a day's partitions or two are probed; an hour
     * ahead allows for the functions' clock against the database's.
     */
    async requestSpan(answer: TimedAnswer): Promise<SpanContext> {
      const [row] = await sql<{ span_id: string }[]>`
        select span_id from telemetry.spans
        where trace_id = ${answer.trace_id} and kind = 'server' and function = 'chat'
          and start_time >= ${new Date(answer.created_at.getTime() - 86_400_000)} and start_time <= ${new Date(answer.created_at.getTime() + 3_600_000)}
          and attributes ->> ${ATTR.streamId} = ${answer.message_id}
        order by start_time limit 1`
      return {
        traceId: answer.trace_id, traceFlags: TraceFlags.SAMPLED, isRemote: true,
        spanId: row?.span_id ?? crypto.randomUUID().replaceAll('-', '').slice(0, 16),
      }
    },
  }
}
