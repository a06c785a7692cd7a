import type { Sql } from 'postgres'
import { createJwtVerifier } from '../../shared/auth/jwt.ts'
import type { Config } from '../../shared/config.ts'
import { errorResponse } from '../../shared/http/errors.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { extractContext, inSpan } from '../../shared/telemetry/spans.ts'
import type { Telemetry } from '../../shared/telemetry/telemetry.ts'
import { countMessageTokens } from '../providers/tokens.ts'
import type { ChatProvider } from '../providers/types.ts'
import { maxBodyBytes, readJsonBody } from '../body.ts'
import { admit, authenticate, errorText, openGate } from '../gate.ts'
import { createBeaconHandler } from './beacon.ts'
import { createFlagReader } from './flags.ts'
import { toBudgetedHistory } from './history.ts'
import { createMessageStore } from './messages.ts'
import { retryStore } from './retry-store.ts'
import { createRateLimiter } from '../rate-limit.ts'
import { createTraceOwners } from '../trace-owners.ts'
import { createRealtimeBroadcast, type Broadcast } from './realtime.ts'
import { answerResume, findResumed, toResumeRequest } from './resume.ts'
import { createResumeBuffer, type ResumeBuffer } from './resume-buffer.ts'
import { toSseBody } from './sse-body.ts'
import { startAnswerRun, type RunSummary } from './stream.ts'
import { answerAsJson } from './transport-http.ts'
import { validateChatInput } from './validate.ts'

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

export const CHAT_ROUTE = '/functions/v1/chat'
export type Transport = 'sse' | 'http'

const RUN_ID = /^[\w.:-]{1,64}$/
const IDEMPOTENCY_KEY = /^[\w.:-]{1,128}$/

/** POST /functions/v1/chat: authenticates, limits, stores the question, streams the answer (or resumes one). */
export function createChatHandler(deps: ChatDeps): (req: Request) => Promise<Response> {
  const { config, telemetry, provider } = deps
  const { tracer, logger } = telemetry
  const verify = createJwtVerifier(config)
  const messages = createMessageStore(deps.sql)
  const limiter = createRateLimiter(deps.sql, config.rateLimit)
  const flags = createFlagReader(deps.sql, config.flagCacheSeconds * 1000,
    (err) => logger.warn('feature flag read failed; using the last known value', { error: errorText(err) }))
  const buffer = deps.resumeBuffer ?? createResumeBuffer({
    retentionMs: config.resumeRetentionSeconds * 1000,
    maxStreams: config.resumeMaxStreams,
    maxBytes: config.resumeMaxBytes,
    maxStreamBytes: config.resumeMaxStreamBytes,
  })
  const broadcast = deps.broadcast === null ? undefined : deps.broadcast ?? createRealtimeBroadcast(config.realtime, logger)
  const bodyLimit = maxBodyBytes(config.maxContentChars)
  const heartbeatMs = config.heartbeatSeconds * 1000
  // x-heartbeat-seconds tells a client how long silence may last on a live stream: past a few
  // heartbeats it is a half-open connection, to be resumed rather than waited on.
  const streamHeaders = { ...sseHeaders, 'x-heartbeat-seconds': String(config.heartbeatSeconds) }
  const later = (work: Promise<unknown>) => deps.waitUntil?.(work.then(() => telemetry.flush()).catch(() => {}))

  async function chooseTransport(headers: Headers): Promise<Transport> {
    if (acceptsJsonOnly(headers.get('accept'))) return 'http'
    const flag = config.chatTransportOverride || await flags.get('chat_transport', 'sse')
    return flag === 'http' ? 'http' : 'sse'
  }

  /** The first request's stream; it registers right after storing the question, so wait a moment. */
  async function heldRepeat(userId: string, key: string) {
    for (let waited = 0; waited <= 2000; waited += 25) {
      const found = buffer.byIdempotencyKey(userId, key)
      if (found) return found
      await new Promise((r) => setTimeout(r, 25))
    }
    return undefined
  }

  const owners = createTraceOwners(deps.sql)
  const beacon = createBeaconHandler({
    sql: deps.sql, tracer, logger, verify, buffer, owners, limiter, ended: () => later(Promise.resolve()),
  })

  return async function handleChat(req: Request): Promise<Response> {
    const startedAt = performance.now()
    const sub = subPathOf(req.url)
    if (sub === '/beacon') return beacon(req)
    if (sub) return errorResponse('not_found', `no route ${sub} in the chat function`, crypto.randomUUID().replaceAll('-', ''))
    const resume = toResumeRequest(req.headers)
    const target = resume.ok ? resume.resume : undefined
    const runId = req.headers.get('x-streamscope-run-id')
    const transport: Transport = target ? 'sse' : await chooseTransport(req.headers)
    // A resume of its own stream that this process holds joins that stream's trace.
    const gate = openGate({
      tracer, logger, fn: 'chat', route: CHAT_ROUTE, req, parent: extractContext(req.headers), owners, startTime: startedAt,
      join: (userId) => {
        const found = target && findResumed(buffer, target, userId)
        return found && found.userId === userId ? found.run.root : undefined
      },
      attributes: { [ATTR.transport]: transport, ...(runId && RUN_ID.test(runId) ? { [ATTR.runId]: runId } : {}) },
      headers: { 'x-chat-transport': transport },
      ended: () => later(Promise.resolve()),
    })
    const { reject } = gate

    if (req.method !== 'POST') return reject('method_not_allowed', 'use POST', { allow: 'POST' })

    const userId = await authenticate(gate, tracer, verify, req)
    if (userId instanceof Response) return userId
    const { root, traceId } = gate
    const baseHeaders = gate.headers

    if (!resume.ok) return reject('invalid_request', resume.message)
    if (target) {
      const found = findResumed(buffer, target, userId)
      if (!found) return reject('stream_gone', 'this stream cannot be resumed here (unknown, expired or held elsewhere); ask again')
      if (found.userId !== userId) return reject('not_found', 'no such stream')
      const { fromSeq } = target
      if (fromSeq > found.run.lastSeq()) return reject('invalid_request', `Last-Event-ID ${fromSeq} is ahead of the stream (last seq ${found.run.lastSeq()})`)
      logger.info('chat stream resumed', { resumed_stream_id: found.run.streamId, resumed_trace_id: found.run.traceId, from_seq: fromSeq }, root)
      return answerResume({
        tracer, root, run: found.run, fromSeq, heartbeatMs,
        headers: { ...streamHeaders, ...baseHeaders },
        onEnd: () => later(Promise.resolve()),
      })
    }

    const idempotencyKey = req.headers.get('idempotency-key')
    if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      return reject('invalid_request', 'Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 _ . : -')
    }
    if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) return reject('unsupported_media_type', 'content-type must be application/json')
    const body = await readJsonBody(req, bodyLimit)
    if (!body.ok) return reject(body.code, body.message)
    const input = validateChatInput(body.value, config)
    if (!input.ok) return reject(input.code, input.message)
    const { session_id, content, model, max_tokens } = input.value
    root.setAttributes({ [ATTR.conversationId]: session_id, [ATTR.requestModel]: model })

    const dbSpanAttrs = { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' }
    let history
    try {
      history = await inSpan(tracer, root, 'select messages', { ...dbSpanAttrs, [ATTR.dbOperation]: 'select' }, async (span) => {
        const recent = await messages.history(session_id, userId, config.historyMessages)
        const fitted = toBudgetedHistory(recent, config.historyTokenBudget)
        span.setAttributes({
          [ATTR.historySent]: fitted.kept.length,
          [ATTR.historyDropped]: recent.length - fitted.kept.length,
          [ATTR.historyTokens]: fitted.tokens,
        })
        return fitted.kept
      })
    } catch (err) {
      logger.error('could not read the session history', { error: errorText(err) }, root)
      return reject('database_unavailable', 'could not read the conversation; nothing was sent to the model', { 'retry-after': '1' })
    }
    const prompt = [...history, { role: 'user' as const, content }]
    const estimated = countMessageTokens(prompt)

    const tpm = config.rateLimit.tokensPerMinute
    if (tpm > 0 && estimated > tpm) return reject('content_too_large', `this request needs about ${estimated} tokens; the limit is ${tpm} per minute`)
    const decision = await admit(gate, { tracer, logger, limiter }, userId, estimated)
    if (decision instanceof Response) return decision

    let stored: string | undefined
    try {
      stored = await inSpan(tracer, root, 'insert messages', dbSpanAttrs, () => messages.insertOnce({
        session_id, user_id: userId, role: 'user', content, status: 'complete', model: null,
        finish_reason: null, input_tokens: null, output_tokens: null, trace_id: traceId, idempotency_key: idempotencyKey,
      }))
    } catch (err) {
      logger.error('could not store the user message', { error: errorText(err) }, root)
      return reject('database_unavailable', 'could not store the message; nothing was sent to the model', { 'retry-after': '1' })
    }
    if (stored === undefined) {
      // A repeat of a request that did arrive: the tokens counted for it are given back,
      // and the caller gets the first request's stream from its start.
      void limiter.settle(userId, decision.windowStart, -estimated).catch(() => {})
      const first = await heldRepeat(userId, idempotencyKey!)
      if (!first) return reject('duplicate_request', 'this Idempotency-Key was already used; its answer is stored with the first request')
      logger.info('chat request repeated; answering with the first stream', { first_stream_id: first.streamId, first_trace_id: first.run.traceId }, root)
      if (transport === 'sse') {
        return answerResume({
          tracer, root, run: first.run, fromSeq: 0, heartbeatMs,
          headers: { ...streamHeaders, ...baseHeaders },
          onEnd: () => later(Promise.resolve()),
        })
      }
      root.setAttributes({ [ATTR.streamId]: first.streamId, [ATTR.resumeTraceId]: first.run.traceId })
      const res = await answerAsJson(first.run, req.signal, { ...baseHeaders, 'x-trace-id': first.run.traceId, 'x-stream-id': first.streamId })
      root.setAttribute(ATTR.httpStatus, res.status)
      root.end()
      later(Promise.resolve())
      return res
    }

    // The stream's id is the server's own, never the caller's trace: a trace may hold many
    // chats (one caller, one traceparent), and each answer is stored and resumed by this id.
    const streamId = crypto.randomUUID()
    root.setAttributes({ [ATTR.httpStatus]: 200, [ATTR.streamId]: streamId })
    const headers = { ...baseHeaders, 'x-stream-id': streamId }
    const slot = transport === 'sse' ? buffer.register(streamId, { userId, traceId, idempotencyKey: idempotencyKey ?? undefined }) : undefined
    let bookkeeping!: (work: Promise<unknown>) => void
    // Supabase keeps the isolate alive until the stream ended (grace included) and its
    // bookkeeping (rate-limit settle, broadcast, telemetry) is done.
    later(new Promise((resolve) => { bookkeeping = resolve }))
    const run = startAnswerRun({
      tracer, logger, provider, root, traceId, streamId, startedAt, model, maxTokens: max_tokens, messages: prompt,
      estimatedInputTokens: estimated, frames: transport === 'sse', retention: slot,
      graceMs: config.resumeGraceSeconds * 1000, captureContent: config.captureContent,
      // Each attempt is its own span; the stream holds chat.done until one went through.
      save: (answer) => retryStore(() => inSpan(tracer, root, 'insert messages', dbSpanAttrs, () => messages.insertAnswer({
        id: streamId, session_id, user_id: userId, role: 'assistant', ...answer, model, trace_id: traceId,
      })), {
        withinMs: config.storeRetrySeconds * 1000,
        onRetry: (err, attempt, delayMs) => logger.warn('could not store the answer; retrying', { attempt, delay_ms: delayMs, error: errorText(err) }, root),
      }),
      onEnd(summary: RunSummary) {
        slot?.ended()
        bookkeeping(Promise.allSettled([
          limiter.settle(userId, decision.windowStart, summary.tokensUsed - estimated).catch((err) =>
            logger.warn('could not settle the rate limit', { error: errorText(err) }, root)),
          summary.outcome.kind === 'done' && broadcast ? broadcast(session_id, summary.outcome.done, root, userId) : undefined,
        ]))
      },
    })
    slot?.hold(run)

    if (transport === 'http') return answerAsJson(run, req.signal, headers)
    return new Response(toSseBody(run, { fromSeq: 0, heartbeatMs }), { headers: { ...streamHeaders, ...headers } })
  }
}

export const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/** `Accept: application/json` without text/event-stream asks for the one-document answer. */
export function acceptsJsonOnly(accept: string | null): boolean {
  if (!accept) return false
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase())
  return types.includes('application/json') && !types.includes('text/event-stream')
}

/** What follows `/chat` in the path ('' for the chat itself; Supabase passes sub-paths through). */
export function subPathOf(url: string): string {
  return new URL(url).pathname.match(/\/chat(\/.*)?$/)?.[1]?.replace(/\/+$/, '') ?? ''
}
