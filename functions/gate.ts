import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api'
import { AuthError, AuthUnavailableError, type VerifiedUser } from '../shared/auth/jwt.ts'
import { errorResponse, type ErrorCode } from '../shared/http/errors.ts'
import { ATTR } from '../shared/telemetry/attributes.ts'
import type { Logger } from '../shared/telemetry/logger.ts'
import { inSpan, injectHeaders, recordSpan } from '../shared/telemetry/spans.ts'
import type { RateDecision, RateLimiter } from './rate-limit.ts'
import type { TraceOwners } from './trace-owners.ts'

// What every function does before its own work, done one way: the request span,
// the single way to refuse a request, authentication and the per-user rate limit.
//
// Whose trace a request lands in is decided once it is known who sent it. The request span
// is made when first needed, with the request's arrival as its start: before authentication
// that is a new trace (the caller's traceparent kept as a link), so an unauthenticated
// request cannot write into anyone's trace; after it, the caller's trace is continued only
// when no other user owns it (trace-owners.ts), else again a new trace with a link.

export interface Gate {
  /** The request span (made on first use: see above). */
  readonly root: Span
  readonly traceId: string
  /** x-trace-id and traceparent, plus the function's own (GateOptions.headers). */
  readonly headers: Record<string, string>
  /** Answers `{error:{code,message,trace_id}}`, ends the request span and logs why. */
  reject(code: ErrorCode, message: string, extra?: Record<string, string>): Response
  /** The caller is this user: makes the request span in the trace they may use (authenticate calls it). */
  bind(userId: string): Promise<void>
}

export interface GateOptions {
  tracer: Tracer
  logger: Logger
  fn: 'chat' | 'embed'
  route: string
  req: Request
  /** The caller's trace context (traceparent): continued only once the caller is known to own that trace. */
  parent: Context
  /** Who owns which trace. Without it a caller's trace is never continued, and nothing is bound. */
  owners?: TraceOwners
  /** A span of this server the request continues once its user is known (a resume joins its stream's trace). */
  join?: (userId: string) => Span | undefined | Promise<Span | undefined>
  links?: Link[]
  /** Set on the request span when it is made. */
  attributes?: Attributes
  /** Response headers besides the trace's (x-chat-transport). */
  headers?: Record<string, string>
  /** performance.now() when the request arrived (default: when the gate opened). */
  startTime?: number
  /**
   * false: the request span is not one of the function's requests on the dashboard (no
   * streamscope.function, so no explorer row and no rollup count): the beacon's.
   */
  counted?: boolean
  /** Called once the request span has ended (Supabase: hand the flush to waitUntil). */
  ended(): void
}

const OWNERS_DB = { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'trace_owners' }

export function openGate(o: GateOptions): Gate {
  const startTime = o.startTime ?? performance.now()
  const callerSpan = trace.getSpanContext(o.parent)
  const caller = callerSpan && trace.isSpanContextValid(callerSpan) ? callerSpan : undefined
  const headers: Record<string, string> = { ...o.headers }
  let span: Span | undefined

  /** The request span, continuing `parent` (the caller's context or a span of ours), or in a new trace. */
  const open = (parent?: Context): Span => {
    if (span) return span
    const links = [...(o.links ?? []), ...(caller && parent !== o.parent ? [{ context: caller }] : [])]
    span = o.tracer.startSpan(`${o.req.method} ${o.route}`, {
      kind: SpanKind.SERVER,
      startTime,
      links,
      attributes: {
        ...(o.counted === false ? {} : { [ATTR.function]: o.fn }),
        [ATTR.httpMethod]: o.req.method, [ATTR.httpRoute]: o.route, ...o.attributes,
      },
    }, parent ?? ROOT_CONTEXT)
    Object.assign(headers, { 'x-trace-id': span.spanContext().traceId, ...injectHeaders(span) })
    return span
  }

  /** The caller's trace if it is this user's; records how long asking took. */
  async function continueCaller(userId: string): Promise<boolean> {
    if (!caller || !o.owners) return false
    const asked = performance.now()
    let mine: boolean
    try {
      mine = await o.owners.claim(caller.traceId, userId)
    } catch (err) {
      recordSpan(o.tracer, open(), 'insert trace_owners', OWNERS_DB, asked, performance.now(), err)
      throw err
    }
    const root = open(mine ? o.parent : undefined)
    recordSpan(o.tracer, root, 'insert trace_owners', OWNERS_DB, asked, performance.now())
    if (!mine) {
      o.logger.warn('the caller’s traceparent names another user’s trace; this request has its own', { caller_trace_id: caller.traceId }, root)
    }
    return mine
  }

  return {
    get root() { return open() },
    get traceId() { return open().spanContext().traceId },
    get headers() { open(); return headers },
    reject(code, message, extra = {}) {
      const root = open()
      const res = errorResponse(code, message, root.spanContext().traceId, { ...headers, ...extra })
      root.setAttribute(ATTR.errorType, code)
      root.setAttribute(ATTR.httpStatus, res.status)
      if (res.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR, message })
      o.logger.warn(`${o.fn} request rejected`, { code, status: res.status, reason: message }, root)
      root.end()
      o.ended()
      return res
    },
    async bind(userId) {
      const made = span !== undefined // used before the user was known: a new trace already
      try {
        const joined = made ? undefined : await o.join?.(userId)
        if (joined) open(trace.setSpan(ROOT_CONTEXT, joined))
        else if (made || !await continueCaller(userId)) {
          const root = open()
          // A new trace: bound to this user before anyone can learn its id (the response).
          if (o.owners) await inSpan(o.tracer, root, 'insert trace_owners', OWNERS_DB, () => o.owners!.claim(root.spanContext().traceId, userId))
        }
      } catch (err) {
        o.logger.error('could not check whose trace this is', { error: errorText(err) }, open())
        throw err
      } finally {
        open().setAttribute(ATTR.userId, userId)
      }
    },
  }
}

/** The caller's user id, or the 401/503 that says why there is none. */
export async function authenticate(
  gate: Gate, tracer: Tracer, verify: (authorization: string | null) => Promise<VerifiedUser>, req: Request,
): Promise<string | Response> {
  const started = performance.now()
  let userId: string
  try {
    ({ userId } = await verify(req.headers.get('authorization')))
  } catch (err) {
    recordSpan(tracer, gate.root, 'auth verify_jwt', {}, started, performance.now(), err)
    if (err instanceof AuthError) return gate.reject('unauthorized', err.message, { 'www-authenticate': 'Bearer' })
    if (err instanceof AuthUnavailableError) return gate.reject('auth_unavailable', err.message, { 'retry-after': '1' })
    throw err
  }
  const verified = performance.now()
  try {
    await gate.bind(userId)
  } catch (err) {
    recordSpan(tracer, gate.root, 'auth verify_jwt', {}, started, verified)
    return gate.reject('database_unavailable', 'could not check whose trace this is; nothing was done', { 'retry-after': '1' })
  }
  recordSpan(tracer, gate.root, 'auth verify_jwt', {}, started, verified)
  return userId
}

/**
 * Counts the request against the user's per-minute limits (one atomic statement in
 * Postgres) or answers the 429. A hit is a span event and a warn line, the same for
 * every function, so the dashboard counts them one way.
 */
export async function admit(
  gate: Gate, o: { tracer: Tracer; logger: Logger; limiter: RateLimiter }, userId: string, estimatedTokens: number,
): Promise<RateDecision | Response> {
  if (!o.limiter.enabled) return o.limiter.check(userId, estimatedTokens) // no query, no span
  let decision: RateDecision
  try {
    decision = await inSpan(o.tracer, gate.root, 'rate_limit check', { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'select' },
      () => o.limiter.check(userId, estimatedTokens))
  } catch (err) {
    o.logger.error('could not check the rate limit', { error: errorText(err) }, gate.root)
    return gate.reject('database_unavailable', 'could not check the rate limit; nothing was sent to the model', { 'retry-after': '1' })
  }
  if (decision.allowed) return decision
  const limit = decision.exceeded === 'tokens' ? 'tokens_per_minute' : 'requests_per_minute'
  gate.root.addEvent('rate_limit.exceeded', { [ATTR.rateLimitLimit]: limit, [ATTR.rateLimitRetryAfterS]: decision.retryAfterSeconds })
  o.logger.warn('rate limit exceeded', { limit, requests: decision.requests, tokens: decision.tokens, retry_after_s: decision.retryAfterSeconds }, gate.root)
  return gate.reject('rate_limited', `${limit.replaceAll('_', ' ')} limit reached; retry in ${decision.retryAfterSeconds} s`,
    { 'retry-after': String(decision.retryAfterSeconds) })
}

export const errorText = (err: unknown) => String((err as Error)?.message ?? err)
