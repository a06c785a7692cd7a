import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { injectHeaders, recordError, startChild } from '../../shared/telemetry/spans.ts'
import { ProviderError, type ChatMessage, type ChatProvider, type ProviderEvent } from '../providers/types.ts'

export type FinishEvent = Extract<ProviderEvent, { type: 'done' }>

/** Why a provider read ended the run with an error. */
export interface ProviderFailure {
  reason: 'error' | 'timeout'
  code: string
  message: string
  retryAfter?: number
}

export interface ProviderReadOptions {
  tracer: Tracer
  logger: Logger
  provider: ChatProvider
  /** The request span: the provider span is its child, a failure marks it. */
  root: Span
  model: string
  maxTokens: number
  messages: ChatMessage[]
}

export interface ProviderReadHandlers {
  /** A delta arrived; a throw ends the run as a failure. */
  delta(text: string): void
  finished(event: FinishEvent): Promise<void> | void
  failed(failure: ProviderFailure): Promise<void> | void
}

/**
 * The provider's stream, read one event at a time on demand: `read` starts a read unless one is
 * in flight (however many callers) and settles once its event was handled. `stop` aborts the
 * upstream request and lets the provider's generator run its finally blocks; events after the
 * run ended are ignored.
 */
export function openProviderRead(o: ProviderReadOptions, on: ProviderReadHandlers) {
  const abort = new AbortController()
  const span = startChild(o.tracer, o.root, `chat ${o.model}`, {
    [ATTR.operation]: 'chat',
    [ATTR.provider]: o.provider.name,
    [ATTR.requestModel]: o.model,
    [ATTR.maxTokens]: o.maxTokens,
    [ATTR.stream]: true,
    ...(o.provider.address ? { [ATTR.serverAddress]: o.provider.address } : {}),
  }, SpanKind.CLIENT)
  const events = o.provider.stream({
    model: o.model, messages: o.messages, maxTokens: o.maxTokens, signal: abort.signal, traceHeaders: injectHeaders(span),
  })[Symbol.asyncIterator]()
  let pending: Promise<void> | undefined
  let closed = false

  function onEvent(event: IteratorResult<ProviderEvent>): Promise<void> | void {
    pending = undefined // this read is over: whatever happens next is the next read's
    if (event.done) return onFailure(new ProviderError('provider_stream_error', 'provider ended the stream without finishing'))
    if (closed) return
    const e = event.value
    if (e.type !== 'delta') return on.finished(e)
    try {
      on.delta(e.text)
    } catch (err) {
      return onFailure(err)
    }
  }

  function onFailure(err: unknown): Promise<void> | void {
    pending = undefined
    if (abort.signal.aborted || closed) return // stopped: the run is already ending
    const failure = toProviderFailure(err)
    recordError(span, err, failure.code)
    o.root.setStatus({ code: SpanStatusCode.ERROR, message: failure.message })
    o.logger.error('provider failed', { code: failure.code, error: failure.message }, o.root)
    return on.failed(failure)
  }

  return {
    span,
    read: (): Promise<void> => pending ??= events.next().then(onEvent, onFailure),
    /** The run ended: later events are ignored. */
    close() { closed = true },
    async stop(reason: string): Promise<void> {
      closed = true
      abort.abort(new Error(reason))
      await events.return?.(undefined).catch(() => {})
    },
  }
}

export type ProviderRead = ReturnType<typeof openProviderRead>

export function toProviderFailure(err: unknown): ProviderFailure {
  const code = err instanceof ProviderError ? err.code : 'provider_error'
  const message = err instanceof Error ? err.message : String(err)
  const retryAfter = err instanceof ProviderError ? err.retryAfter : undefined
  return { reason: isTimeout(err) ? 'timeout' : 'error', code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) }
}

function isTimeout(err: unknown): boolean {
  if (err instanceof ProviderError) return err.code === 'provider_timeout' || err.status === 408 || err.status === 504
  return err instanceof Error && err.name === 'TimeoutError'
}
