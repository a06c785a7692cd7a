import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'
import { formatDelta, formatDone, formatError } from '../../shared/sse/frames.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { recordError, startChild } from '../../shared/telemetry/spans.ts'
import { ProviderError, type ChatMessage, type ChatProvider, type ProviderEvent } from '../providers/types.ts'

export interface Answer {
  content: string
  status: 'complete' | 'cut' | 'error'
  finish_reason: string | null
  input_tokens: number | null
  output_tokens: number | null
}

export interface StreamAnswerOptions {
  tracer: Tracer
  logger: Logger
  provider: ChatProvider
  root: Span
  traceId: string
  /** performance.now() when the request arrived: TTFB and duration count from here. */
  startedAt: number
  model: string
  maxTokens: number
  messages: ChatMessage[]
  save(answer: Answer): Promise<string>
  onEnd(root: Span): void
}

export type EndReason = 'done' | 'error' | 'client_abort'

const encoder = new TextEncoder()

/**
 * The SSE body. Pull-based: the provider is read only when the client has taken the
 * previous frame, so a slow reader slows the upstream instead of growing a buffer.
 */
export function streamAnswer(o: StreamAnswerOptions): ReadableStream<Uint8Array> {
  const abort = new AbortController()
  const providerSpan = startChild(o.tracer, o.root, `chat ${o.model}`, {
    [ATTR.operation]: 'chat',
    [ATTR.provider]: o.provider.name,
    [ATTR.requestModel]: o.model,
    [ATTR.maxTokens]: o.maxTokens,
    [ATTR.stream]: true,
    ...(o.provider.address ? { 'server.address': o.provider.address } : {}),
  }, SpanKind.CLIENT)
  const events = o.provider.stream({ model: o.model, messages: o.messages, maxTokens: o.maxTokens, signal: abort.signal })[Symbol.asyncIterator]()

  let text = ''
  let seq = 0
  let bytes = 0
  let ttfbMs: number | undefined
  let ended = false

  const send = (controller: ReadableStreamDefaultController<Uint8Array>, frame: string) => {
    const chunk = encoder.encode(frame)
    bytes += chunk.byteLength
    controller.enqueue(chunk)
  }

  /** Saves what was generated and closes every span; runs exactly once per stream. */
  async function finish(reason: EndReason, answer: Omit<Answer, 'content'>, errorCode?: string): Promise<string | undefined> {
    ended = true
    const durationMs = performance.now() - o.startedAt
    providerSpan.setAttributes({
      [ATTR.finishReasons]: answer.finish_reason ? [answer.finish_reason] : [],
      ...(answer.input_tokens !== null ? { [ATTR.inputTokens]: answer.input_tokens } : {}),
      ...(answer.output_tokens !== null ? { [ATTR.outputTokens]: answer.output_tokens } : {}),
    })
    providerSpan.end()
    o.root.setAttributes({
      [ATTR.frames]: seq,
      [ATTR.bytes]: bytes,
      [ATTR.endReason]: reason,
      ...(ttfbMs !== undefined ? { [ATTR.ttfbMs]: ttfbMs } : {}),
      ...(answer.input_tokens !== null ? { [ATTR.inputTokens]: answer.input_tokens } : {}),
      ...(answer.output_tokens !== null ? { [ATTR.outputTokens]: answer.output_tokens } : {}),
      ...(errorCode ? { [ATTR.errorType]: errorCode } : {}),
    })
    let messageId: string | undefined
    try {
      messageId = await o.save({ ...answer, content: text })
    } catch (err) {
      recordError(o.root, err, 'database_unavailable')
      o.logger.error('could not store the assistant message', { error: String((err as Error)?.message ?? err) }, o.root)
    }
    o.logger.info('chat stream ended', { end_reason: reason, frames: seq, ttfb_ms: ttfbMs, duration_ms: durationMs }, o.root)
    o.onEnd(o.root)
    return messageId
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let event: IteratorResult<ProviderEvent>
      try {
        event = await events.next()
        if (event.done) throw new ProviderError('provider_stream_error', 'provider ended the stream without finishing')
      } catch (err) {
        if (abort.signal.aborted || ended) return // the client left; cancel() does the bookkeeping
        const code = err instanceof ProviderError ? err.code : 'provider_error'
        const message = err instanceof Error ? err.message : String(err)
        recordError(providerSpan, err, code)
        o.root.setStatus({ code: SpanStatusCode.ERROR, message })
        o.logger.error('provider failed', { code, error: message }, o.root)
        send(controller, formatError({ trace_id: o.traceId, code, message }))
        await finish('error', { status: 'error', finish_reason: 'error', input_tokens: null, output_tokens: null }, code)
        controller.close()
        return
      }

      const e = event.value
      if (e.type === 'delta') {
        if (ttfbMs === undefined) {
          ttfbMs = performance.now() - o.startedAt
          providerSpan.setAttribute(ATTR.timeToFirstChunk, ttfbMs / 1000)
          providerSpan.addEvent('first_token')
        }
        text += e.text
        seq += 1
        send(controller, formatDelta({ trace_id: o.traceId, seq, delta: e.text }))
        return
      }

      providerSpan.setAttribute(ATTR.responseModel, e.response_model)
      if (e.usage.estimated) providerSpan.setAttribute('streamscope.usage.estimated', true)
      const messageId = await finish('done', {
        status: 'complete', finish_reason: e.finish_reason,
        input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens,
      })
      if (messageId === undefined) {
        send(controller, formatError({ trace_id: o.traceId, code: 'database_unavailable', message: 'the answer could not be stored' }))
      } else {
        send(controller, formatDone({
          trace_id: o.traceId,
          message_id: messageId,
          finish_reason: e.finish_reason,
          usage: { input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens },
          ttfb_ms: round(ttfbMs ?? 0),
          duration_ms: round(performance.now() - o.startedAt),
        }))
      }
      controller.close()
    },

    async cancel() {
      if (ended) return
      abort.abort(new Error('client disconnected'))
      o.root.setAttribute(ATTR.errorType, 'client_abort')
      providerSpan.setAttribute(ATTR.errorType, 'client_abort')
      await finish('client_abort', { status: 'cut', finish_reason: 'client_abort', input_tokens: null, output_tokens: seq })
      // Let the generator run its finally blocks (closes the upstream request).
      await events.return?.(undefined).catch(() => {})
    },
  }, { highWaterMark: 0 })
}

const round = (ms: number) => Math.round(ms * 10) / 10
