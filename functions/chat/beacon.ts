import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type SpanContext, type Tracer } from '@opentelemetry/api'
import type { Sql } from 'postgres'
import { AuthError, AuthUnavailableError, type VerifiedUser } from '../../shared/auth/jwt.ts'
import { errorResponse, type ErrorCode } from '../../shared/http/errors.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { readJsonBody } from '../body.ts'
import type { ResumeBuffer } from './resume-buffer.ts'

export const BEACON_ATTR = {
  ttfb: 'streamscope.client.ttfb_ms',
  duration: 'streamscope.client.duration_ms',
} as const

export interface BeaconDeps {
  sql: Sql
  tracer: Tracer
  logger: Logger
  verify: (authorization: string | null) => Promise<VerifiedUser>
  buffer: ResumeBuffer
  /** Supabase: keep the isolate until the span is written. */
  ended(): void
}

const TRACE_ID = /^[0-9a-f]{32}$/
const HOUR_MS = 3_600_000

/**
 * POST /functions/v1/chat/beacon {trace_id, client_ttfb_ms, client_duration_ms}: what the
 * client saw, recorded as a `client timing` span inside the chat's own trace (a child
 * of its request span when that can be found), so a trace shows client beside server
 * TTFB. Only the user who owns the chat may write onto its trace.
 */
export function createBeaconHandler(d: BeaconDeps): (req: Request) => Promise<Response> {
  return async function handleBeacon(req: Request): Promise<Response> {
    const fail = (code: ErrorCode, message: string, traceId = crypto.randomUUID().replaceAll('-', '')) =>
      errorResponse(code, message, traceId)
    if (req.method !== 'POST') return fail('method_not_allowed', 'use POST')
    let user: VerifiedUser
    try {
      user = await d.verify(req.headers.get('authorization'))
    } catch (err) {
      if (err instanceof AuthError) return fail('unauthorized', err.message)
      if (err instanceof AuthUnavailableError) return fail('auth_unavailable', err.message)
      throw err
    }
    if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) return fail('unsupported_media_type', 'content-type must be application/json')
    const body = await readJsonBody(req, 4096)
    if (!body.ok) return fail(body.code, body.message)
    const { trace_id, client_ttfb_ms, client_duration_ms } = (body.value ?? {}) as Record<string, unknown>
    if (typeof trace_id !== 'string' || !TRACE_ID.test(trace_id)) return fail('invalid_request', 'trace_id must be 32 lowercase hex characters')
    const ms = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= HOUR_MS
    if (client_ttfb_ms !== null && !ms(client_ttfb_ms)) return fail('invalid_request', 'client_ttfb_ms must be null or a number of ms in [0, 3600000]', trace_id)
    if (!ms(client_duration_ms)) return fail('invalid_request', 'client_duration_ms must be a number of ms in [0, 3600000]', trace_id)

    let parent: SpanContext | undefined
    try {
      const [owned] = await d.sql`select 1 from public.messages where trace_id = ${trace_id} and user_id = ${user.userId} limit 1`
      if (!owned) return fail('not_found', 'no chat of yours has this trace_id', trace_id)
      parent = d.buffer.get(trace_id)?.run.root.spanContext() ?? await requestSpanOf(d.sql, trace_id)
    } catch (err) {
      d.logger.warn('client beacon dropped: database unavailable', { error: String((err as Error)?.message ?? err) })
      return fail('database_unavailable', 'could not check the trace; the timing was not recorded', trace_id)
    }
    // Without the request span (not yet written, another isolate) the span still joins the
    // trace, under a parent id that matches nothing; the trace page shows it at the top.
    const context = trace.setSpanContext(ROOT_CONTEXT, parent ?? {
      traceId: trace_id, spanId: crypto.randomUUID().replaceAll('-', '').slice(0, 16), traceFlags: TraceFlags.SAMPLED, isRemote: true,
    })
    const span = d.tracer.startSpan('client timing', {
      kind: SpanKind.INTERNAL,
      attributes: {
        [BEACON_ATTR.duration]: client_duration_ms as number,
        ...(client_ttfb_ms !== null ? { [BEACON_ATTR.ttfb]: client_ttfb_ms as number } : {}),
        'enduser.id': user.userId,
      },
    }, context)
    span.end()
    d.ended()
    return new Response(null, { status: 204, headers: { 'x-trace-id': trace_id } })
  }
}

async function requestSpanOf(sql: Sql, traceId: string): Promise<SpanContext | undefined> {
  const [row] = await sql<{ span_id: string }[]>`
    select span_id from telemetry.spans
    where trace_id = ${traceId} and kind = 'server' and function = 'chat'
    order by start_time limit 1`
  return row ? { traceId, spanId: row.span_id, traceFlags: TraceFlags.SAMPLED, isRemote: true } : undefined
}
