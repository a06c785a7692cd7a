import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api'
import { deltaFrameBytes, formatDelta, formatDone, formatError, type DoneFrame } from '../../shared/sse/frames.ts'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { injectHeaders, recordError, startChild } from '../../shared/telemetry/spans.ts'
import { countTokens } from '../providers/tokens.ts'
import { ProviderError, type ChatMessage, type ChatProvider, type ProviderEvent } from '../providers/types.ts'
import { toInputMessages, toOutputMessages } from './capture.ts'
import { toStreamStats } from './stream-stats.ts'
import { utf8Length } from '../../shared/utf8.ts'

export interface Answer {
  content: string
  status: 'complete' | 'cut' | 'error'
  finish_reason: string | null
  input_tokens: number | null
  output_tokens: number | null
}

export type EndReason = 'done' | 'error' | 'client_abort' | 'timeout'

/** How a run ended, for the JSON transport and the handler's bookkeeping. */
export type Outcome =
  | { kind: 'done'; content: string; done: DoneFrame }
  | { kind: 'error'; code: string; message: string; retryAfter?: number }
  | { kind: 'cut' }

export interface RunSummary {
  reason: EndReason
  outcome: Outcome
  /** Input + output tokens the run cost (the provider's usage, else an estimate). */
  tokensUsed: number
}

/** Where a run keeps its frames for resume; `reserve` says no when a cap would be passed. */
export interface Retention {
  reserve(bytes: number): boolean
  release(): void
}

/** One connection reading the run; a newer connection evicts the older. */
export interface RunReader {
  evict(): void
  /** A frame was added or the run ended (after a `request`). */
  progress(): void
}

export interface AnswerRunOptions {
  tracer: Tracer
  logger: Logger
  provider: ChatProvider
  root: Span
  traceId: string
  /** The id the server made for this stream: resumes name it, and the answer is stored under it. */
  streamId: string
  /** performance.now() when the request arrived: TTFB, frame offsets and duration count from here. */
  startedAt: number
  model: string
  maxTokens: number
  messages: ChatMessage[]
  /** Input tokens counted before the call (rate limit), used when the provider reports none. */
  estimatedInputTokens: number
  /** Encode SSE frames (false for the JSON transport, which only needs the text). */
  frames: boolean
  /** Where frames are kept for resume; absent = only the frame not yet taken is held. */
  retention?: Retention
  /** How long to wait for a new reader after the last one left before cutting (ms). */
  graceMs: number
  captureContent: boolean
  save(answer: Answer): Promise<string>
  /** After the answer is stored and the spans are closed; exactly once. */
  onEnd(summary: RunSummary): void
}

const round = (ms: number) => Math.round(ms * 10) / 10

/**
 * One answer being generated, independent of the connection reading it, so that a
 * resumed connection can pick it up. It is pull-driven: the provider is read only when
 * a reader has taken every frame so far and asks for the next (`advance`), so a slow or
 * absent reader slows the upstream instead of growing a buffer. Frames are kept (for
 * resume) only within what `retention` allows.
 */
export function startAnswerRun(o: AnswerRunOptions) {
  const abort = new AbortController()
  const providerSpan = startChild(o.tracer, o.root, `chat ${o.model}`, {
    [ATTR.operation]: 'chat',
    [ATTR.provider]: o.provider.name,
    [ATTR.requestModel]: o.model,
    [ATTR.maxTokens]: o.maxTokens,
    [ATTR.stream]: true,
    ...(o.provider.address ? { 'server.address': o.provider.address } : {}),
  }, SpanKind.CLIENT)
  const events = o.provider.stream({
    model: o.model, messages: o.messages, maxTokens: o.maxTokens, signal: abort.signal, traceHeaders: injectHeaders(providerSpan),
  })[Symbol.asyncIterator]()

  let text = ''
  let seq = 0
  let bytes = 0
  let ttfbMs: number | undefined
  /** Arrival of each delta, ms after the request started: one number per frame, nothing else. */
  const offsets: number[] = []
  /**
   * deltas[i] is the text of the frame of seq dropped + i + 1. The frame itself is formatted when a
   * reader takes it: what is held for resume is only the model's text, which `text` references
   * anyway — no per-frame string in the heap for the lifetime of a resumable stream.
   */
  const deltas: string[] = []
  let dropped = 0
  let retention = o.retention
  let terminal: string | undefined
  let outcome: Outcome | undefined
  let ended = false
  let pending: Promise<void> | undefined
  let reader: RunReader | undefined
  let grace: ReturnType<typeof setTimeout> | undefined
  let resumes = 0
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => { resolveFinished = r })

  function keep(delta: string) {
    const size = deltaFrameBytes({ trace_id: o.traceId, seq, delta })
    bytes += size
    if (retention && !retention.reserve(size)) stopRetaining()
    deltas.push(delta)
  }

  function stopRetaining() {
    retention?.release()
    retention = undefined
    o.root.addEvent('resume.buffer_dropped', { [ATTR.frames]: seq })
  }

  /** The frame of `seq` if produced; without retention, older frames are let go once taken. */
  function take(at: number): string | undefined {
    const delta = deltas[at - dropped - 1]
    if (delta === undefined) return undefined
    if (!retention) {
      deltas.splice(0, at - dropped)
      dropped = at
    }
    return formatDelta({ trace_id: o.traceId, seq: at, delta })
  }

  /** The provider read in flight, or a new one: one at a time, however many callers. */
  const read = () => pending ??= events.next().then(onEvent, onFailure)

  /** A provider read settled with an event: a frame is added, or the run finishes. */
  function onEvent(event: IteratorResult<ProviderEvent>): Promise<void> | void {
    pending = undefined // this read is over: whatever happens next is the next advance's
    if (event.done) return onFailure(new ProviderError('provider_stream_error', 'provider ended the stream without finishing'))
    if (ended) return
    const e = event.value
    if (e.type === 'delta') {
      try {
        const at = performance.now() - o.startedAt
        if (ttfbMs === undefined) {
          ttfbMs = at
          providerSpan.setAttribute(ATTR.timeToFirstChunk, ttfbMs / 1000)
          providerSpan.addEvent('first_token')
        }
        offsets.push(round(at))
        text += e.text
        seq += 1
        if (o.frames) keep(e.text)
      } catch (err) {
        return onFailure(err)
      }
      reader?.progress()
      return
    }
    providerSpan.setAttribute(ATTR.responseModel, e.response_model)
    if (e.usage.estimated) providerSpan.setAttribute(ATTR.usageEstimated, true)
    return finish('done', {
      status: 'complete', finish_reason: e.finish_reason,
      input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens,
    }, undefined, e.usage.estimated)
  }

  /** A provider read failed (or the provider ended without finishing): the run ends with an error. */
  function onFailure(err: unknown): Promise<void> | void {
    pending = undefined
    if (abort.signal.aborted || ended) return // cut(): the client left and nobody came back
    const code = err instanceof ProviderError ? err.code : 'provider_error'
    const message = err instanceof Error ? err.message : String(err)
    recordError(providerSpan, err, code)
    o.root.setStatus({ code: SpanStatusCode.ERROR, message })
    o.logger.error('provider failed', { code, error: message }, o.root)
    const retryAfter = err instanceof ProviderError ? err.retryAfter : undefined
    return finish(isTimeout(err) ? 'timeout' : 'error', {
      status: 'error', finish_reason: 'error', input_tokens: null, output_tokens: null,
    }, { kind: 'error', code, message, ...(retryAfter !== undefined ? { retryAfter } : {}) })
  }

  /** Stores what was generated, closes the spans and produces the terminal frame; once. */
  async function finish(reason: EndReason, answer: Omit<Answer, 'content'>, failure?: Outcome, estimated = false) {
    ended = true
    clearTimeout(grace)
    const durationMs = performance.now() - o.startedAt
    const usage = answer.input_tokens !== null
      ? { [ATTR.inputTokens]: answer.input_tokens, [ATTR.outputTokens]: answer.output_tokens ?? 0, [ATTR.usageEstimated]: estimated }
      : {}
    providerSpan.setAttributes({ [ATTR.finishReasons]: answer.finish_reason ? [answer.finish_reason] : [], ...usage })
    if (o.captureContent) {
      providerSpan.setAttributes({
        [ATTR.inputMessages]: toInputMessages(o.messages),
        [ATTR.outputMessages]: toOutputMessages(text, answer.finish_reason),
      })
    }
    providerSpan.end()
    // A finished run may be held for resume for minutes: let the prompt (history) go.
    o.messages = []
    let messageId: string | undefined
    try {
      messageId = await o.save({ ...answer, content: text })
    } catch (err) {
      recordError(o.root, err, 'database_unavailable')
      o.logger.error('could not store the assistant message', { error: String((err as Error)?.message ?? err) }, o.root)
    }
    if (failure) outcome = failure
    else if (reason === 'client_abort') outcome = { kind: 'cut' }
    else if (messageId === undefined) outcome = { kind: 'error', code: 'database_unavailable', message: 'the answer could not be stored' }
    else {
      outcome = {
        kind: 'done', content: text,
        done: {
          trace_id: o.traceId, message_id: messageId, finish_reason: answer.finish_reason ?? 'stop',
          usage: { input_tokens: answer.input_tokens ?? 0, output_tokens: answer.output_tokens ?? 0 },
          ttfb_ms: round(ttfbMs ?? 0), duration_ms: round(performance.now() - o.startedAt),
        },
      }
    }
    const terminalFrame = toTerminalFrame(o.traceId, outcome)
    if (o.frames) {
      terminal = terminalFrame
      const size = utf8Length(terminal)
      bytes += size
      if (retention && !retention.reserve(size)) stopRetaining()
    }
    const stats = toStreamStats(offsets)
    o.root.setAttributes({
      [ATTR.frames]: seq,
      [ATTR.bytes]: bytes,
      [ATTR.endReason]: reason,
      [ATTR.frameOffsetsMs]: offsets,
      [ATTR.stalls]: stats.stalls,
      [ATTR.maxGapMs]: stats.maxGapMs,
      [ATTR.resumes]: resumes,
      ...(ttfbMs !== undefined ? { [ATTR.ttfbMs]: round(ttfbMs) } : {}),
      ...usage,
      ...(outcome.kind === 'error' ? { [ATTR.errorType]: outcome.code } : {}),
    })
    o.logger.info('chat stream ended', {
      end_reason: reason, frames: seq, ttfb_ms: ttfbMs, duration_ms: durationMs, resumes,
      ...(o.captureContent ? { [ATTR.outputMessages]: toOutputMessages(text, answer.finish_reason) } : {}),
    }, o.root)
    const tokensUsed = answer.input_tokens !== null
      ? answer.input_tokens + (answer.output_tokens ?? 0)
      : seq === 0 ? 0 : o.estimatedInputTokens + countTokens(text)
    o.root.end()
    resolveFinished()
    try {
      o.onEnd({ reason, outcome, tokensUsed })
    } catch (err) {
      o.logger.error('stream end bookkeeping failed', { error: String((err as Error)?.message ?? err) }, o.root)
    }
    reader?.progress() // the terminal frame is ready
  }

  /** The client is gone and no resume came: stop the upstream and keep what was generated. */
  async function cut() {
    if (ended) return
    abort.abort(new Error('client disconnected'))
    o.root.setAttribute(ATTR.errorType, 'client_abort')
    providerSpan.setAttribute(ATTR.errorType, 'client_abort')
    await finish('client_abort', { status: 'cut', finish_reason: 'client_abort', input_tokens: null, output_tokens: seq })
    // Let the generator run its finally blocks (closes the upstream request).
    await events.return?.(undefined).catch(() => {})
  }

  return {
    traceId: o.traceId,
    streamId: o.streamId,
    root: o.root,
    finished,
    lastSeq: () => seq,
    take,
    terminal: () => terminal,
    outcome: () => outcome,
    text: () => text,
    resumable: () => retention !== undefined,
    /** Resolves when a frame was added or the run ended; concurrent callers share one provider read. */
    advance(): Promise<void> {
      return ended ? finished : read()
    },
    /**
     * Starts a provider read unless one is in flight or the run ended; the attached reader's
     * `progress` runs when it settled (a frame was added, or the run ended). No promise to keep.
     */
    request(): void {
      if (!ended) read()
    },
    attach(next: RunReader, resumed = false) {
      clearTimeout(grace)
      grace = undefined
      if (resumed) resumes++
      const previous = reader
      reader = next
      if (previous && previous !== next) previous.evict()
    },
    /** The reader finished normally (it has the terminal frame). */
    release(r: RunReader) {
      if (reader === r) reader = undefined
    },
    /** The reader's connection went away before the end; resolves once a cut (if any, now) is stored. */
    async detach(r: RunReader): Promise<void> {
      if (reader !== r) return
      reader = undefined
      if (ended) return
      if (retention && o.graceMs > 0) {
        o.root.addEvent('client.disconnected', { 'streamscope.resume.grace_ms': o.graceMs })
        grace = setTimeout(() => void cut(), o.graceMs)
      } else {
        await cut()
      }
    },
  }
}

export type AnswerRun = ReturnType<typeof startAnswerRun>

function toTerminalFrame(traceId: string, outcome: Outcome): string {
  switch (outcome.kind) {
    case 'done': return formatDone(outcome.done)
    case 'error': return formatError({ trace_id: traceId, code: outcome.code, message: outcome.message })
    case 'cut': return formatError({
      trace_id: traceId, code: 'stream_cut',
      message: 'the stream was cut after the client disconnected; the partial answer was saved',
    })
  }
}

function isTimeout(err: unknown): boolean {
  if (err instanceof ProviderError) return err.code === 'provider_timeout' || err.status === 408 || err.status === 504
  return err instanceof Error && err.name === 'TimeoutError'
}
