// streamChat: one logical chat across as many HTTP attempts as it takes. A failure before the
// server has the request is retried with backoff; once the server answered, a broken stream is
// resumed (Last-Event-ID), never asked again, unless the caller allowed that (onGone: 'restart').
import { backoffDelay, RETRY_DEFAULTS, sleep as defaultSleep } from './backoff.ts'
import { sendBeacon } from './beacon.ts'
import { runAttempt, toErrorEvent, type AttemptOutcome, type AttemptState } from './chat-attempt.ts'
import { createChannel } from './channel.ts'
import { toEndpoint } from './endpoint.ts'
import { createTraceContext, parseTraceparent, toTraceparent } from './traceparent.ts'
import type { ChatEvent, ChatOptions, ChatResult, ChatStream, ErrorEvent, RetryReason, Transport } from './types.ts'

/** Callbacks behave like DOM event listeners: an exception is reported, and the chat goes on. */
function call<T>(fn: ((e: T) => void) | undefined, e: T): void {
  if (!fn) return
  try {
    fn(e)
  } catch (err) {
    queueMicrotask(() => { throw err })
  }
}

/** Links the caller's signal to ours without AbortSignal.any (absent from older runtimes). */
function linkSignal(outer: AbortSignal | undefined, inner: AbortController): void {
  if (!outer) return
  if (outer.aborted) inner.abort(outer.reason)
  else outer.addEventListener('abort', () => inner.abort(outer.reason), { once: true })
}

export function streamChat(options: ChatOptions): ChatStream {
  const controller = new AbortController()
  linkSignal(options.signal, controller)
  const channel = createChannel<ChatEvent>(() => controller.abort(new Error('the consumer stopped reading')))
  const result = run(options, controller.signal, (e) => {
    call(options.onEvent, e)
    if (e.type === 'open') call(options.onOpen, e)
    else if (e.type === 'delta') call(options.onDelta, e)
    else if (e.type === 'done') call(options.onDone, e)
    else if (e.type === 'error') call(options.onError, e)
    else if (e.type === 'retry') call(options.onRetry, e)
    else if (e.type === 'resume') call(options.onResume, e)
    channel.push(e)
  }).finally(() => channel.close())
  return {
    result,
    abort: () => controller.abort(new Error('aborted by the caller')),
    [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
  }
}

async function run(o: ChatOptions, signal: AbortSignal, emit: (e: ChatEvent) => void): Promise<ChatResult> {
  const fetchImpl = o.fetch ?? globalThis.fetch.bind(globalThis)
  const now = o.now ?? (() => performance.now())
  const random = o.random ?? Math.random
  const wait = o.sleep ?? defaultSleep
  const maxAttempts = o.maxAttempts ?? RETRY_DEFAULTS.maxAttempts
  const backoff = { baseDelayMs: o.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs, maxDelayMs: o.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs, random }
  const fallbackAfter = o.sseFailuresBeforeFallback ?? 2
  const onGone = o.onGone === 'restart' ? 'restart' : 'keep'

  const endpoint = toEndpoint(o)
  const url = endpoint.functionUrl('chat')
  const body = JSON.stringify({
    ...o.body,
    session_id: o.session_id,
    content: o.content,
    ...(o.model !== undefined ? { model: o.model } : {}),
    ...(o.max_tokens !== undefined ? { max_tokens: o.max_tokens } : {}),
  })
  let trace = (o.traceparent && parseTraceparent(o.traceparent)) || createTraceContext()
  // The same key on every attempt of this question: a repeat of a request that did reach
  // the server (the connection died before its headers) gets that request's stream.
  let idempotencyKey = o.idempotencyKey ?? crypto.randomUUID()

  const state: AttemptState = { lastSeq: 0, text: '', traceId: null, streamId: null }
  const startedAt = now()
  let firstDeltaAt: number | null = null
  let transport: Transport | null = null
  let opened = false
  let json = o.transport === 'http'
  let resume = false
  let failures = 0
  let sseNetworkFailures = 0
  let streamRetryMs: number | null = null

  const finish = (error: ErrorEvent | null, done: ChatResult['done'] = null): ChatResult => {
    if (error) emit(error)
    return { text: state.text, partial: done === null && state.text !== '', trace_id: state.traceId, transport, done, error }
  }
  const aborted = () => finish(toErrorEvent('aborted', String((signal.reason as Error)?.message ?? 'aborted'), state.traceId))

  for (;;) {
    if (signal.aborted) return aborted()
    let progressed = false
    let outcome: AttemptOutcome
    try {
      outcome = await runAttempt({
        url, body, resume, json, signal, fetch: fetchImpl, now, idleTimeoutMs: o.idleTimeoutMs,
        headers: { ...await endpoint.headers(), traceparent: toTraceparent(trace), 'idempotency-key': idempotencyKey },
      }, state, {
        onOpen(traceId, t, resumedFrom) {
          transport = t
          if (!opened) {
            opened = true
            emit({ type: 'open', trace_id: traceId ?? trace.traceId, transport: t })
          } else if (resumedFrom !== null) {
            emit({ type: 'resume', from_seq: resumedFrom })
          }
        },
        onDelta(seq, text) {
          progressed = true
          firstDeltaAt ??= now()
          emit({ type: 'delta', seq, text })
        },
        onStreamRetry(ms) { streamRetryMs = ms },
      })
    } catch (err) {
      // endpoint.headers() failed (the token getter threw): nothing was sent, nothing to retry.
      if (signal.aborted) return aborted()
      return finish(toErrorEvent('unauthorized', `could not get an access token: ${String((err as Error)?.message ?? err)}`, state.traceId))
    }
    if (progressed) failures = 0

    let reason: RetryReason
    let lastError: ErrorEvent
    let retryAfterMs: number | null = null
    switch (outcome.kind) {
      case 'done': {
        const end = now()
        const clientTtfb = firstDeltaAt === null ? null : round(firstDeltaAt - startedAt)
        const done = { ...outcome.event, client_ttfb_ms: clientTtfb }
        emit(done)
        if (o.beaconUrl && state.traceId) {
          void sendBeacon(o.beaconUrl, {
            ...(state.streamId ? { stream_id: state.streamId } : {}), trace_id: state.traceId,
            client_ttfb_ms: clientTtfb, client_duration_ms: round(end - startedAt),
          }, endpoint, fetchImpl)
        }
        return finish(null, done)
      }
      case 'error':
        return finish(outcome.event)
      case 'aborted':
        return aborted()
      case 'gone': {
        emit({ type: 'gone', trace_id: state.traceId, last_seq: state.lastSeq, action: onGone })
        if (onGone === 'keep') return finish(outcome.event)
        // Asking again is a new chat: new trace, text from scratch, the question stored once more.
        trace = createTraceContext()
        idempotencyKey = crypto.randomUUID()
        Object.assign(state, { lastSeq: 0, text: '', traceId: null, streamId: null })
        firstDeltaAt = null
        resume = false
        opened = false
        failures = 0
        continue
      }
      case 'network':
        lastError = toErrorEvent('network_error', outcome.message, state.traceId)
        reason = 'network'
        // No answer: each such attempt gets a trace of its own, unless the caller chose the trace
        // (a server from before stream ids named streams by trace id).
        if (!resume && !o.traceparent) trace = createTraceContext()
        if (!resume && !json && o.transport !== 'sse' && ++sseNetworkFailures >= fallbackAfter) {
          json = true
          reason = 'fallback_http'
        }
        break
      case 'status':
        // The server answered: the network path works, whatever the status.
        sseNetworkFailures = 0
        lastError = outcome.event
        reason = outcome.reason
        retryAfterMs = outcome.retryAfterMs
        break
      case 'cut':
        lastError = toErrorEvent('network_error', outcome.message, state.traceId)
        reason = outcome.reason
        if (state.streamId || state.traceId) resume = true
        sseNetworkFailures = 0
        break
    }

    failures += 1
    if (failures >= maxAttempts) return finish({ ...lastError, retryable: true, message: `${lastError.message} (gave up after ${failures} attempts)` })
    if (retryAfterMs !== null && retryAfterMs > RETRY_DEFAULTS.maxRetryAfterMs) {
      return finish({ ...lastError, retryable: true, message: `${lastError.message} (server asked to wait ${Math.round(retryAfterMs / 1000)} s)` })
    }
    // retry-after is the server's word; the stream's `retry:` is its word for reconnections.
    const delay = retryAfterMs ?? (reason === 'stream_cut' && streamRetryMs !== null ? streamRetryMs : backoffDelay(failures - 1, backoff))
    emit({ type: 'retry', attempt: failures, delay_ms: delay, reason })
    try {
      await wait(delay, signal)
    } catch {
      return aborted()
    }
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10
