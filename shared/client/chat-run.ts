// What one chat keeps across its attempts, and the decisions taken between them: what a
// finished attempt means for the next one, how long to wait, when to give up.
import { backoffDelay, RETRY_DEFAULTS, sleep as defaultSleep } from './backoff.ts'
import { sendBeacon } from './beacon.ts'
import { toErrorEvent, type AttemptHooks, type AttemptOutcome, type AttemptState } from './chat-attempt.ts'
import type { Endpoint } from './endpoint.ts'
import { createTraceContext, parseTraceparent, type TraceContext } from './traceparent.ts'
import type { ChatEvent, ChatOptions, DoneEvent, ErrorEvent, RetryReason, Transport } from './types.ts'

/** The caller's options with their defaults filled in. */
export function settingsOf(o: ChatOptions) {
  const random = o.random ?? Math.random
  return {
    fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
    now: o.now ?? (() => performance.now()),
    wait: o.sleep ?? defaultSleep,
    maxAttempts: o.maxAttempts ?? RETRY_DEFAULTS.maxAttempts,
    backoff: { baseDelayMs: o.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs, maxDelayMs: o.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs, random },
    fallbackAfter: o.sseFailuresBeforeFallback ?? 2,
    onGone: o.onGone === 'restart' ? 'restart' as const : 'keep' as const,
  }
}
export type ChatSettings = ReturnType<typeof settingsOf>

export function chatBody(o: ChatOptions): string {
  return JSON.stringify({
    ...o.body,
    session_id: o.session_id,
    content: o.content,
    ...(o.model !== undefined ? { model: o.model } : {}),
    ...(o.max_tokens !== undefined ? { max_tokens: o.max_tokens } : {}),
  })
}

export interface ChatRun {
  trace: TraceContext
  /** The same key on every attempt of this question: a repeat of a request that did reach the
   * server (the connection died before its headers) gets that request's stream. */
  idempotencyKey: string
  state: AttemptState
  startedAt: number
  firstDeltaAt: number | null
  transport: Transport | null
  opened: boolean
  json: boolean
  resume: boolean
  failures: number
  sseNetworkFailures: number
  streamRetryMs: number | null
}

export function newRun(o: ChatOptions, now: () => number): ChatRun {
  return {
    trace: (o.traceparent && parseTraceparent(o.traceparent)) || createTraceContext(),
    idempotencyKey: o.idempotencyKey ?? crypto.randomUUID(),
    state: { lastSeq: 0, text: '', traceId: null, streamId: null },
    startedAt: now(),
    firstDeltaAt: null,
    transport: null,
    opened: false,
    json: o.transport === 'http',
    resume: false,
    failures: 0,
    sseNetworkFailures: 0,
    streamRetryMs: null,
  }
}

/** Asking again after `gone` is a new chat: new trace, text from scratch, the question stored once more. */
export function restartRun(r: ChatRun): void {
  r.trace = createTraceContext()
  r.idempotencyKey = crypto.randomUUID()
  Object.assign(r.state, { lastSeq: 0, text: '', traceId: null, streamId: null })
  Object.assign(r, { firstDeltaAt: null, resume: false, opened: false, failures: 0 })
}

/** An attempt's hooks: `open` once per chat, `resume` on a later open, deltas as they come. */
export function attemptHooks(r: ChatRun, emit: (e: ChatEvent) => void, now: () => number, onProgress: () => void): AttemptHooks {
  return {
    onOpen(traceId, t, resumedFrom) {
      r.transport = t
      if (!r.opened) {
        r.opened = true
        emit({ type: 'open', trace_id: traceId ?? r.trace.traceId, transport: t })
      } else if (resumedFrom !== null) {
        emit({ type: 'resume', from_seq: resumedFrom })
      }
    },
    onDelta(seq, text) {
      onProgress()
      r.firstDeltaAt ??= now()
      emit({ type: 'delta', seq, text })
    },
    onStreamRetry(ms) { r.streamRetryMs = ms },
  }
}

/** The done event with the client's timing, emitted, and the timing sent to the beacon. */
export function completeRun(r: ChatRun, event: Omit<DoneEvent, 'client_ttfb_ms'>, s: ChatSettings, emit: (e: ChatEvent) => void,
  beacon: { url?: string; endpoint: Endpoint }): DoneEvent {
  const end = s.now()
  const clientTtfb = r.firstDeltaAt === null ? null : round(r.firstDeltaAt - r.startedAt)
  const done = { ...event, client_ttfb_ms: clientTtfb }
  emit(done)
  if (beacon.url && r.state.traceId) {
    void sendBeacon(beacon.url, {
      ...(r.state.streamId ? { stream_id: r.state.streamId } : {}), trace_id: r.state.traceId,
      client_ttfb_ms: clientTtfb, client_duration_ms: round(end - r.startedAt),
    }, beacon.endpoint, s.fetch)
  }
  return done
}

export interface Retry { reason: RetryReason; lastError: ErrorEvent; retryAfterMs: number | null }
type RetryOutcome = Extract<AttemptOutcome, { kind: 'network' | 'status' | 'cut' }>

/** Why the next attempt is made, and how it differs from this one. */
export function toRetry(outcome: RetryOutcome, r: ChatRun, o: ChatOptions, fallbackAfter: number): Retry {
  switch (outcome.kind) {
    case 'network': {
      let reason: RetryReason = 'network'
      // No answer: each such attempt gets a trace of its own, unless the caller chose the trace
      // (a server from before stream ids named streams by trace id).
      if (!r.resume && !o.traceparent) r.trace = createTraceContext()
      if (!r.resume && !r.json && o.transport !== 'sse' && ++r.sseNetworkFailures >= fallbackAfter) {
        r.json = true
        reason = 'fallback_http'
      }
      return { reason, lastError: toErrorEvent('network_error', outcome.message, r.state.traceId), retryAfterMs: null }
    }
    case 'status':
      // The server answered: the network path works, whatever the status.
      r.sseNetworkFailures = 0
      return { reason: outcome.reason, lastError: outcome.event, retryAfterMs: outcome.retryAfterMs }
    case 'cut':
      if (r.state.streamId || r.state.traceId) r.resume = true
      r.sseNetworkFailures = 0
      return { reason: outcome.reason, lastError: toErrorEvent('network_error', outcome.message, r.state.traceId), retryAfterMs: null }
  }
}

/** The error to end with instead of retrying: too many attempts, or a server asking to wait too long. */
export function giveUp({ lastError, retryAfterMs }: Retry, failures: number, maxAttempts: number): ErrorEvent | null {
  if (failures >= maxAttempts) return { ...lastError, retryable: true, message: `${lastError.message} (gave up after ${failures} attempts)` }
  if (retryAfterMs !== null && retryAfterMs > RETRY_DEFAULTS.maxRetryAfterMs) {
    return { ...lastError, retryable: true, message: `${lastError.message} (server asked to wait ${Math.round(retryAfterMs / 1000)} s)` }
  }
  return null
}

/** retry-after is the server's word; the stream's `retry:` is its word for reconnections. */
export function retryDelay({ reason, retryAfterMs }: Retry, r: ChatRun, backoff: ChatSettings['backoff']): number {
  return retryAfterMs ?? (reason === 'stream_cut' && r.streamRetryMs !== null ? r.streamRetryMs : backoffDelay(r.failures - 1, backoff))
}

const round = (ms: number) => Math.round(ms * 10) / 10
