// streamChat: one logical chat across as many HTTP attempts as it takes. A failure before the
// server has the request is retried with backoff; once the server answered, a broken stream is
// resumed (Last-Event-ID), never asked again, unless the caller allowed that (onGone: 'restart').
import { runAttempt, toErrorEvent, type AttemptOutcome } from './chat-attempt.ts'
import { attemptHooks, chatBody, completeRun, giveUp, newRun, restartRun, retryDelay, settingsOf, toRetry } from './chat-run.ts'
import { createChannel } from './channel.ts'
import { toEndpoint } from './endpoint.ts'
import { toTraceparent } from './traceparent.ts'
import type { ChatEvent, ChatOptions, ChatResult, ChatStream, ErrorEvent } from './types.ts'

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
  const s = settingsOf(o)
  const endpoint = toEndpoint(o)
  const url = endpoint.functionUrl('chat')
  const body = chatBody(o)
  const r = newRun(o, s.now)
  const finish = (error: ErrorEvent | null, done: ChatResult['done'] = null): ChatResult => {
    if (error) emit(error)
    return { text: r.state.text, partial: done === null && r.state.text !== '', trace_id: r.state.traceId, transport: r.transport, done, error }
  }
  const aborted = () => finish(toErrorEvent('aborted', String((signal.reason as Error)?.message ?? 'aborted'), r.state.traceId))

  for (;;) {
    if (signal.aborted) return aborted()
    let progressed = false
    let outcome: AttemptOutcome
    try {
      outcome = await runAttempt({
        url, body, resume: r.resume, json: r.json, signal, fetch: s.fetch, now: s.now, idleTimeoutMs: o.idleTimeoutMs,
        headers: { ...await endpoint.headers(), traceparent: toTraceparent(r.trace), 'idempotency-key': r.idempotencyKey },
      }, r.state, attemptHooks(r, emit, s.now, () => { progressed = true }))
    } catch (err) {
      // endpoint.headers() failed (the token getter threw): nothing was sent, nothing to retry.
      if (signal.aborted) return aborted()
      return finish(toErrorEvent('unauthorized', `could not get an access token: ${String((err as Error)?.message ?? err)}`, r.state.traceId))
    }
    if (progressed) r.failures = 0

    switch (outcome.kind) {
      case 'done': return finish(null, completeRun(r, outcome.event, s, emit, { url: o.beaconUrl, endpoint }))
      case 'error': return finish(outcome.event)
      case 'aborted': return aborted()
      case 'gone':
        emit({ type: 'gone', trace_id: r.state.traceId, last_seq: r.state.lastSeq, action: s.onGone })
        if (s.onGone === 'keep') return finish(outcome.event)
        restartRun(r)
        continue
    }
    const retry = toRetry(outcome, r, o, s.fallbackAfter)
    r.failures += 1
    const end = giveUp(retry, r.failures, s.maxAttempts)
    if (end) return finish(end)
    const delay = retryDelay(retry, r, s.backoff)
    emit({ type: 'retry', attempt: r.failures, delay_ms: delay, reason: retry.reason })
    try {
      await s.wait(delay, signal)
    } catch {
      return aborted()
    }
  }
}
