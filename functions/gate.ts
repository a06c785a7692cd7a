import { SpanKind, SpanStatusCode, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api'
import { AuthError, AuthUnavailableError, type VerifiedUser } from '../shared/auth/jwt.ts'
import { errorResponse, type ErrorCode } from '../shared/http/errors.ts'
import { ATTR } from '../shared/telemetry/attributes.ts'
import type { Logger } from '../shared/telemetry/logger.ts'
import { inSpan, injectHeaders } from '../shared/telemetry/spans.ts'
import type { RateDecision, RateLimiter } from './rate-limit.ts'

// What every function does before its own work, done one way: the request span,
// the single way to refuse a request, authentication and the per-user rate limit.

export interface Gate {
  root: Span
  traceId: string
  /** x-trace-id and traceparent, plus whatever the function adds (x-chat-transport). */
  headers: Record<string, string>
  /** Answers `{error:{code,message,trace_id}}`, ends the request span and logs why. */
  reject(code: ErrorCode, message: string, extra?: Record<string, string>): Response
}

export interface GateOptions {
  tracer: Tracer
  logger: Logger
  fn: 'chat' | 'embed'
  route: string
  req: Request
  parent: Context
  links?: Link[]
  /** Called once the request span has ended (Supabase: hand the flush to waitUntil). */
  ended(): void
}

export function openGate(o: GateOptions): Gate {
  const root = o.tracer.startSpan(`${o.req.method} ${o.route}`, {
    kind: SpanKind.SERVER,
    links: o.links,
    attributes: { [ATTR.function]: o.fn, [ATTR.httpMethod]: o.req.method, [ATTR.httpRoute]: o.route },
  }, o.parent)
  const traceId = root.spanContext().traceId
  const headers: Record<string, string> = { 'x-trace-id': traceId, ...injectHeaders(root) }
  return {
    root,
    traceId,
    headers,
    reject(code, message, extra = {}) {
      const res = errorResponse(code, message, traceId, { ...headers, ...extra })
      root.setAttribute(ATTR.errorType, code)
      root.setAttribute(ATTR.httpStatus, res.status)
      if (res.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR, message })
      o.logger.warn(`${o.fn} request rejected`, { code, status: res.status, reason: message }, root)
      root.end()
      o.ended()
      return res
    },
  }
}

/** The caller's user id, or the 401/503 that says why there is none. */
export async function authenticate(
  gate: Gate, tracer: Tracer, verify: (authorization: string | null) => Promise<VerifiedUser>, req: Request,
): Promise<string | Response> {
  try {
    const { userId } = await inSpan(tracer, gate.root, 'auth verify_jwt', {}, () => verify(req.headers.get('authorization')))
    gate.root.setAttribute(ATTR.userId, userId)
    return userId
  } catch (err) {
    if (err instanceof AuthError) return gate.reject('unauthorized', err.message, { 'www-authenticate': 'Bearer' })
    if (err instanceof AuthUnavailableError) return gate.reject('auth_unavailable', err.message, { 'retry-after': '1' })
    throw err
  }
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
  gate.root.addEvent('rate_limit.exceeded', { 'streamscope.rate_limit.limit': limit, 'streamscope.rate_limit.retry_after_s': decision.retryAfterSeconds })
  o.logger.warn('rate limit exceeded', { limit, requests: decision.requests, tokens: decision.tokens, retry_after_s: decision.retryAfterSeconds }, gate.root)
  return gate.reject('rate_limited', `${limit.replaceAll('_', ' ')} limit reached; retry in ${decision.retryAfterSeconds} s`,
    { 'retry-after': String(decision.retryAfterSeconds) })
}

export const errorText = (err: unknown) => String((err as Error)?.message ?? err)
