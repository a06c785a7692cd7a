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
import { answerResume, isAhead, locateStream, rootOf, toResumeRequest, toSource, type Located, type ResumeTarget } from './resume.ts'
import { createResumeBuffer, type ResumeBuffer } from './resume-buffer.ts'
import { toSseBody } from './sse-body.ts'
import type { StreamSource } from './source.ts'
import { createFrameLog } from './frame-log.ts'
import { startAnswerRun, type RunSummary } from './stream.ts'
import { createStreamLogStore } from './stream-log-store.ts'
import type { Gate } from '../gate.ts'
import type { ChatMessage } from '../providers/types.ts'
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
const DB_SPAN = { [ATTR.dbSystem]: 'postgresql', [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'messages' }

/** What every part of the handler shares, built once per isolate. */
function createChatContext(deps: ChatDeps) {
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

type ChatContext = ReturnType<typeof createChatContext>

/** POST /functions/v1/chat: authenticates, limits, stores the question, streams the answer (or resumes one). */
export function createChatHandler(deps: ChatDeps): (req: Request) => Promise<Response> {
  const ctx = createChatContext(deps)
  return (req) => handleChat(ctx, req)
}

async function chooseTransport(ctx: ChatContext, headers: Headers): Promise<Transport> {
  if (acceptsJsonOnly(headers.get('accept'))) return 'http'
  const flag = ctx.config.chatTransportOverride || await ctx.flags.get('chat_transport', 'sse')
  return flag === 'http' ? 'http' : 'sse'
}

async function handleChat(ctx: ChatContext, req: Request): Promise<Response> {
  const startedAt = performance.now()
  const sub = subPathOf(req.url)
  if (sub === '/beacon') return ctx.beacon(req)
  if (sub) return errorResponse('not_found', `no route ${sub} in the chat function`, crypto.randomUUID().replaceAll('-', ''))
  const resume = toResumeRequest(req.headers)
  const target = resume.ok ? resume.resume : undefined
  const runId = req.headers.get('x-streamscope-run-id')
  const transport: Transport = target ? 'sse' : await chooseTransport(ctx, req.headers)
  let located: Promise<Located | undefined> | undefined
  const locate = (userId: string) => located ??= locateStream(ctx.buffer, ctx.log, target!, userId)
  // A resume of its own stream (held here or logged by another isolate) joins that stream's trace.
  const gate = openGate({
    tracer: ctx.tracer, logger: ctx.logger, fn: 'chat', route: CHAT_ROUTE, req, parent: extractContext(req.headers),
    owners: ctx.owners, startTime: startedAt,
    join: target ? async (userId) => {
      const found = await locate(userId)
      return found && found.userId === userId ? rootOf(found) : undefined
    } : undefined,
    attributes: { [ATTR.transport]: transport, ...(runId && RUN_ID.test(runId) ? { [ATTR.runId]: runId } : {}) },
    headers: { 'x-chat-transport': transport },
    ended: () => ctx.later(Promise.resolve()),
  })
  if (req.method !== 'POST') return gate.reject('method_not_allowed', 'use POST', { allow: 'POST' })
  const userId = await authenticate(gate, ctx.tracer, ctx.verify, req)
  if (userId instanceof Response) return userId
  if (!resume.ok) return gate.reject('invalid_request', resume.message)
  if (target) return answerResumeRequest(ctx, gate, target, await locate(userId).catch(() => undefined), userId)
  return askModel(ctx, gate, req, userId, transport, startedAt)
}

/** A resume: the frames after Last-Event-ID of a stream held here or logged by another isolate. */
function answerResumeRequest(ctx: ChatContext, gate: Gate, target: ResumeTarget & { fromSeq: number }, found: Located | undefined, userId: string): Response {
  if (!found) return gate.reject('stream_gone', 'this stream cannot be resumed (unknown or expired); ask again')
  if (found.userId !== userId) return gate.reject('not_found', 'no such stream')
  const { fromSeq } = target
  const last = isAhead(found, fromSeq)
  if (last !== undefined) return gate.reject('invalid_request', `Last-Event-ID ${fromSeq} is ahead of the stream (last seq ${last})`)
  const source = toSource(found, fromSeq, followOptions(ctx, gate))
  ctx.logger.info('chat stream resumed', {
    resumed_stream_id: source.streamId, resumed_trace_id: source.traceId, from_seq: fromSeq, held_here: found.run !== undefined,
  }, gate.root)
  return answerResume({
    tracer: ctx.tracer, root: gate.root, run: source, fromSeq, heartbeatMs: ctx.heartbeatMs,
    headers: { ...ctx.streamHeaders, ...gate.headers },
    onEnd: () => ctx.later(Promise.resolve()),
  })
}

function followOptions(ctx: ChatContext, gate: Gate) {
  return {
    store: ctx.log!, pollMs: ctx.config.resumeLog.pollMs, logger: ctx.logger, span: gate.root,
    onCut: () => gate.root.setAttributes({ [ATTR.endReason]: 'cut', [ATTR.errorType]: 'stream_cut' }),
  }
}

/** A question, read and checked: the prompt with its history, the tokens it is estimated at. */
async function readQuestion(ctx: ChatContext, gate: Gate, req: Request, userId: string) {
  const { config, tracer, logger } = ctx
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) return gate.reject('unsupported_media_type', 'content-type must be application/json')
  const body = await readJsonBody(req, ctx.bodyLimit)
  if (!body.ok) return gate.reject(body.code, body.message)
  const input = validateChatInput(body.value, config)
  if (!input.ok) return gate.reject(input.code, input.message)
  const { session_id, content, model } = input.value
  gate.root.setAttributes({ [ATTR.conversationId]: session_id, [ATTR.requestModel]: model })
  let history: ChatMessage[]
  try {
    history = await inSpan(tracer, gate.root, 'select messages', { ...DB_SPAN, [ATTR.dbOperation]: 'select' }, async (span) => {
      const recent = await ctx.messages.history(session_id, userId, config.historyMessages)
      const fitted = toBudgetedHistory(recent, config.historyTokenBudget)
      span.setAttributes({
        [ATTR.historySent]: fitted.kept.length,
        [ATTR.historyDropped]: recent.length - fitted.kept.length,
        [ATTR.historyTokens]: fitted.tokens,
      })
      return fitted.kept
    })
  } catch (err) {
    logger.error('could not read the session history', { error: errorText(err) }, gate.root)
    return gate.reject('database_unavailable', 'could not read the conversation; nothing was sent to the model', { 'retry-after': '1' })
  }
  const prompt = [...history, { role: 'user' as const, content }]
  return { ...input.value, prompt, estimated: countMessageTokens(prompt) }
}

type Question = Exclude<Awaited<ReturnType<typeof readQuestion>>, Response>

/** A new question: checked, admitted, stored once; then its answer streams (or a repeat gets the first one's). */
async function askModel(ctx: ChatContext, gate: Gate, req: Request, userId: string, transport: Transport, startedAt: number): Promise<Response> {
  const idempotencyKey = req.headers.get('idempotency-key')
  if (idempotencyKey !== null && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    return gate.reject('invalid_request', 'Idempotency-Key must be 1 to 128 characters of A-Z a-z 0-9 _ . : -')
  }
  const q = await readQuestion(ctx, gate, req, userId)
  if (q instanceof Response) return q
  const tpm = ctx.config.rateLimit.tokensPerMinute
  if (tpm > 0 && q.estimated > tpm) return gate.reject('content_too_large', `this request needs about ${q.estimated} tokens; the limit is ${tpm} per minute`)
  const decision = await admit(gate, ctx, userId, q.estimated)
  if (decision instanceof Response) return decision
  // The stream's id is the server's own, never the caller's trace: a trace may hold many
  // chats (one caller, one traceparent), and each answer is stored and resumed by this id.
  const streamId = crypto.randomUUID()
  const { traceId, root } = gate
  let stored: string | undefined
  try {
    stored = await inSpan(ctx.tracer, root, 'insert messages', DB_SPAN, () => ctx.messages.insertOnce({
      session_id: q.session_id, user_id: userId, role: 'user', content: q.content, status: 'complete', model: null,
      finish_reason: null, input_tokens: null, output_tokens: null, trace_id: traceId, idempotency_key: idempotencyKey,
    }, ctx.log && { stream_id: streamId, trace_id: traceId, span_id: root.spanContext().spanId, model: q.model }))
  } catch (err) {
    ctx.logger.error('could not store the user message', { error: errorText(err) }, root)
    return gate.reject('database_unavailable', 'could not store the message; nothing was sent to the model', { 'retry-after': '1' })
  }
  if (stored !== undefined) return startStream(ctx, gate, { ...q, userId, streamId, transport, startedAt, idempotencyKey, windowStart: decision.windowStart, signal: req.signal })
  // A repeat of a request that did arrive: the tokens counted for it are given back,
  // and the caller gets the first request's stream from its start.
  void ctx.limiter.settle(userId, decision.windowStart, -q.estimated).catch(() => {})
  return answerRepeat(ctx, gate, req, userId, idempotencyKey!, transport)
}

/** A repeated Idempotency-Key: the first request's stream from its start, wherever it runs. */
async function answerRepeat(ctx: ChatContext, gate: Gate, req: Request, userId: string, key: string, transport: Transport): Promise<Response> {
  let first: StreamSource | undefined = ctx.buffer.byIdempotencyKey(userId, key)?.run
  if (!first && ctx.log) {
    try {
      const row = await ctx.log.byIdempotencyKey(userId, key)
      if (row) first = toSource({ row, userId }, 0, followOptions(ctx, gate))
    } catch (err) {
      ctx.logger.error('could not look up the first request’s stream', { error: errorText(err) }, gate.root)
      return gate.reject('database_unavailable', 'could not find the first request’s answer', { 'retry-after': '1' })
    }
  }
  if (!first) return gate.reject('duplicate_request', 'this Idempotency-Key was already used; its answer is stored with the first request')
  ctx.logger.info('chat request repeated; answering with the first stream', { first_stream_id: first.streamId, first_trace_id: first.traceId }, gate.root)
  if (transport === 'sse') {
    return answerResume({
      tracer: ctx.tracer, root: gate.root, run: first, fromSeq: 0, heartbeatMs: ctx.heartbeatMs,
      headers: { ...ctx.streamHeaders, ...gate.headers },
      onEnd: () => ctx.later(Promise.resolve()),
    })
  }
  gate.root.setAttributes({ [ATTR.streamId]: first.streamId, [ATTR.resumeTraceId]: first.traceId })
  const res = await answerAsJson(first, req.signal, { ...gate.headers, 'x-trace-id': first.traceId, 'x-stream-id': first.streamId })
  gate.root.setAttribute(ATTR.httpStatus, res.status)
  gate.root.end()
  ctx.later(Promise.resolve())
  return res
}

interface NewStream extends Question {
  userId: string
  streamId: string
  transport: Transport
  startedAt: number
  idempotencyKey: string | null
  windowStart: Date
  signal: AbortSignal
}

/** The answer to a stored question: generated, logged for resumes, stored, and its bookkeeping done. */
function startStream(ctx: ChatContext, gate: Gate, s: NewStream): Response | Promise<Response> {
  const { config, tracer, logger } = ctx
  const { root, traceId } = gate
  root.setAttributes({ [ATTR.httpStatus]: 200, [ATTR.streamId]: s.streamId })
  const headers = { ...gate.headers, 'x-stream-id': s.streamId }
  const slot = s.transport === 'sse' ? ctx.buffer.register(s.streamId, { userId: s.userId, traceId, idempotencyKey: s.idempotencyKey ?? undefined }) : undefined
  let bookkeeping!: (work: Promise<unknown>) => void
  // Supabase keeps the isolate alive until the stream ended (read to its end when its reader
  // left) and its bookkeeping (frame log, rate-limit settle, broadcast, telemetry) is done.
  ctx.later(new Promise((resolve) => { bookkeeping = resolve }))
  const run = startAnswerRun({
    tracer, logger, provider: ctx.provider, root, traceId, streamId: s.streamId, startedAt: s.startedAt, model: s.model,
    maxTokens: s.max_tokens, messages: s.prompt, estimatedInputTokens: s.estimated, frames: s.transport === 'sse', retention: slot,
    log: ctx.log && createFrameLog({
      write: (b) => b.end ? retryStore(() => ctx.log!.write(s.streamId, b), { withinMs: config.storeRetrySeconds * 1000 }) : ctx.log!.write(s.streamId, b),
      flushMs: config.resumeLog.flushMs, maxFrames: config.resumeLog.maxFrames, beatMs: config.resumeLog.beatSeconds * 1000,
      onError: (err) => logger.warn('could not write the stream’s frame log', { error: errorText(err) }, root),
    }),
    graceMs: config.resumeGraceSeconds * 1000, captureContent: config.captureContent,
    // Each attempt is its own span; the stream holds chat.done until one went through.
    save: (answer) => retryStore(() => inSpan(tracer, root, 'insert messages', DB_SPAN, () => ctx.messages.insertAnswer({
      id: s.streamId, session_id: s.session_id, user_id: s.userId, role: 'assistant', ...answer, model: s.model, trace_id: traceId,
    })), {
      withinMs: config.storeRetrySeconds * 1000,
      onRetry: (err, attempt, delayMs) => logger.warn('could not store the answer; retrying', { attempt, delay_ms: delayMs, error: errorText(err) }, root),
    }),
    onEnd(summary: RunSummary) {
      slot?.ended()
      bookkeeping(Promise.allSettled([
        summary.logged,
        ctx.limiter.settle(s.userId, s.windowStart, summary.tokensUsed - s.estimated).catch((err) =>
          logger.warn('could not settle the rate limit', { error: errorText(err) }, root)),
        summary.outcome.kind === 'done' && ctx.broadcast ? ctx.broadcast(s.session_id, summary.outcome.done, root, s.userId) : undefined,
      ]))
    },
  })
  slot?.hold(run)
  if (s.transport === 'http') return answerAsJson(run, s.signal, headers)
  return new Response(toSseBody(run, { fromSeq: 0, heartbeatMs: ctx.heartbeatMs }), { headers: { ...ctx.streamHeaders, ...headers } })
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
