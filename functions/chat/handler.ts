import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api'
import type { Sql } from 'postgres'
import { AuthError, createJwtVerifier } from '../../shared/auth/jwt.ts'
import type { Config } from '../../shared/config.ts'
import { errorResponse } from '../../shared/http/errors.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { extractContext, inSpan, injectHeaders } from '../../shared/telemetry/spans.ts'
import type { Telemetry } from '../../shared/telemetry/telemetry.ts'
import type { ChatProvider } from '../providers/types.ts'
import { createMessageStore } from './messages.ts'
import { streamAnswer } from './stream.ts'
import { validateChatInput } from './validate.ts'

export interface ChatDeps {
  config: Config
  sql: Sql
  telemetry: Telemetry
  provider: ChatProvider
  /** Supabase's EdgeRuntime.waitUntil: keeps the isolate alive until telemetry is written. */
  waitUntil?: (work: Promise<unknown>) => void
}

export const CHAT_ROUTE = '/functions/v1/chat'

/** POST /functions/v1/chat: authenticates, stores the question, streams the answer as SSE. */
export function createChatHandler(deps: ChatDeps): (req: Request) => Promise<Response> {
  const { config, telemetry, provider } = deps
  const { tracer, logger } = telemetry
  const verify = createJwtVerifier(config.jwtSecret, config.jwtAudience)
  const messages = createMessageStore(deps.sql)

  const flushLater = () => deps.waitUntil?.(telemetry.flush().catch(() => {}))

  return async function handleChat(req: Request): Promise<Response> {
    const startedAt = performance.now()
    const root = tracer.startSpan(`${req.method} ${CHAT_ROUTE}`, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR.function]: 'chat', [ATTR.httpMethod]: req.method, [ATTR.httpRoute]: CHAT_ROUTE },
    }, extractContext(req.headers))
    const traceId = root.spanContext().traceId
    const traceHeaders = { 'x-trace-id': traceId, ...injectHeaders(root) }

    const reject = (code: Parameters<typeof errorResponse>[0], message: string, extra: HeadersInit = {}) => {
      const res = errorResponse(code, message, traceId, { ...traceHeaders, ...extra })
      root.setAttribute(ATTR.errorType, code)
      root.setAttribute(ATTR.httpStatus, res.status)
      if (res.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR, message })
      logger.warn('chat request rejected', { code, status: res.status, reason: message }, root)
      root.end()
      flushLater()
      return res
    }

    if (req.method !== 'POST') return reject('method_not_allowed', 'use POST', { allow: 'POST' })

    let userId: string
    try {
      userId = await inSpan(tracer, root, 'auth verify_jwt', {}, async () => (await verify(req.headers.get('authorization'))).userId)
    } catch (err) {
      if (err instanceof AuthError) return reject('unauthorized', err.message, { 'www-authenticate': 'Bearer' })
      throw err
    }
    root.setAttribute(ATTR.userId, userId)

    const type = req.headers.get('content-type') ?? ''
    if (!/^application\/json\b/i.test(type)) return reject('unsupported_media_type', 'content-type must be application/json')
    let body: unknown
    try {
      body = await req.json()
    } catch {
      return reject('invalid_json', 'body is not valid JSON')
    }
    const input = validateChatInput(body, config.maxContentChars)
    if (!input.ok) return reject(input.code, input.message)
    const { session_id, content } = input.value
    const model = config.defaultModel
    root.setAttributes({ [ATTR.conversationId]: session_id, [ATTR.requestModel]: model })

    const dbSpanAttrs = { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' }
    let history
    try {
      history = await inSpan(tracer, root, 'select messages', { ...dbSpanAttrs, [ATTR.dbOperation]: 'select' },
        () => messages.history(session_id, userId, config.historyMessages))
      await inSpan(tracer, root, 'insert messages', dbSpanAttrs, () => messages.insert({
        session_id, user_id: userId, role: 'user', content, status: 'complete', model: null,
        finish_reason: null, input_tokens: null, output_tokens: null, trace_id: traceId,
      }))
    } catch (err) {
      logger.error('could not store the user message', { error: String((err as Error)?.message ?? err) }, root)
      return reject('database_unavailable', 'could not store the message; nothing was sent to the model', { 'retry-after': '1' })
    }

    root.setAttribute(ATTR.httpStatus, 200)
    const body$ = streamAnswer({
      tracer, logger, provider, root, traceId, startedAt, model,
      maxTokens: config.maxOutputTokens,
      messages: [...history, { role: 'user', content }],
      save: (answer) => inSpan(tracer, root, 'insert messages', dbSpanAttrs, () => messages.insert({
        session_id, user_id: userId, role: 'assistant', ...answer, model, trace_id: traceId,
      })),
      onEnd: (span: Span) => { span.end(); flushLater() },
    })
    return new Response(body$, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        ...traceHeaders,
      },
    })
  }
}

