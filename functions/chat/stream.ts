import type { Span, Tracer } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { recordError } from '../../shared/telemetry/spans.ts'
import { countTokens } from '../providers/tokens.ts'
import type { ChatMessage, ChatProvider } from '../providers/types.ts'
import type { EndStatus, FrameLog } from './frame-log.ts'
import { openProviderRead, type ProviderFailure } from './provider-read.ts'
import { createRunFrames, type Retention } from './run-frames.ts'
import { recordProviderEnd, recordRunEnd, round, type Answer, type EndReason, type RunFacts } from './run-record.ts'
import { toTerminalFrame, type Outcome, type RunReader, type StreamSource } from './source.ts'

export type { Answer, EndReason } from './run-record.ts'
export type { Retention } from './run-frames.ts'
export type { Outcome, RunReader } from './source.ts'

export interface RunSummary {
  reason: EndReason
  outcome: Outcome
  /** Input + output tokens the run cost (the provider's usage, else an estimate). */
  tokensUsed: number
  /** Settles once the frame log has the stream's end (at once without a log). */
  logged: Promise<void>
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
  /** Where frames are kept for resume in this process; absent = only the frame not yet taken is held. */
  retention?: Retention
  /** Where the deltas go for resumes on other isolates. */
  log?: FrameLog
  /** How long a stream whose reader left goes on being generated before it is cut (ms). */
  graceMs: number
  captureContent: boolean
  save(answer: Answer): Promise<string>
  /** After the answer is stored and the spans are closed; exactly once. */
  onEnd(summary: RunSummary): void
}

/**
 * One answer being generated, independent of the connection reading it, so that a resumed
 * connection can pick it up. While a reader is attached it is pull-driven: the provider is read
 * only when the reader has taken every frame so far and asks for the next, so a slow reader slows
 * the upstream instead of growing a buffer. When the reader leaves, a resumable run is read to
 * its end (or cut after `graceMs`). The parts: the provider read (provider-read.ts), the frames
 * held here (run-frames.ts), the frame log (frame-log.ts), the record of the run (run-record.ts).
 */
export function startAnswerRun(o: AnswerRunOptions) {
  const frames = o.frames ? createRunFrames(o.traceId, o.root, o.retention) : undefined
  const run = { text: '', seq: 0, ttfbMs: undefined as number | undefined, offsets: [] as number[], ended: false, outcome: undefined as Outcome | undefined }
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => { resolveFinished = r })

  const provider = openProviderRead(o, {
    delta(text) {
      const at = performance.now() - o.startedAt
      if (run.ttfbMs === undefined) {
        run.ttfbMs = at
        provider.span.setAttribute(ATTR.timeToFirstChunk, at / 1000)
        provider.span.addEvent('first_token')
      }
      run.offsets.push(round(at))
      run.text += text
      run.seq += 1
      frames?.keep(run.seq, text)
      o.log?.append(text)
      readers.progress()
    },
    finished(e) {
      provider.span.setAttribute(ATTR.responseModel, e.response_model)
      if (e.usage.estimated) provider.span.setAttribute(ATTR.usageEstimated, true)
      return finish('done', {
        status: 'complete', finish_reason: e.finish_reason, input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens,
      }, undefined, e.usage.estimated)
    },
    failed: (f: ProviderFailure) => finish(f.reason, { status: 'error', finish_reason: 'error', input_tokens: null, output_tokens: null },
      { kind: 'error', code: f.code, message: f.message, ...(f.retryAfter !== undefined ? { retryAfter: f.retryAfter } : {}) }),
  })

  const readers = createReaders({
    graceMs: o.graceMs, root: o.root,
    detachable: () => frames !== undefined && (frames.resumable() || o.log !== undefined),
    ended: () => run.ended,
    read: () => provider.read(),
    cut,
  })

  /** Stores what was generated, closes the spans and produces the final frame; once. */
  async function finish(reason: EndReason, answer: Omit<Answer, 'content'>, failure?: Outcome, estimated = false) {
    run.ended = true
    readers.stop()
    provider.close()
    const facts: RunFacts = {
      reason, answer, text: run.text, estimated, frames: run.seq, bytes: 0, offsets: run.offsets, ttfbMs: run.ttfbMs,
      durationMs: performance.now() - o.startedAt, resumes: readers.resumes(),
    }
    recordProviderEnd(provider.span, facts, o.captureContent ? { messages: o.messages } : undefined)
    o.messages = [] // a finished run may be held for resume for minutes: let the prompt (history) go
    const messageId = await store(answer)
    const outcome = toOutcome(reason, failure, messageId, answer, { ...run, traceId: o.traceId, startedAt: o.startedAt })
    const terminal = toTerminalFrame(o.traceId, outcome)
    frames?.keepTerminal(terminal, run.seq)
    run.outcome = outcome
    const logged = o.log?.end(toEndStatus(outcome), terminal).catch((err) =>
      o.logger.warn('could not log the stream’s end', { error: String((err as Error)?.message ?? err) }, o.root)) ?? Promise.resolve()
    recordRunEnd(o.root, o.logger, { ...facts, bytes: frames?.bytes() ?? 0 }, outcome, o.captureContent)
    resolveFinished()
    const tokensUsed = answer.input_tokens !== null
      ? answer.input_tokens + (answer.output_tokens ?? 0)
      : run.seq === 0 ? 0 : o.estimatedInputTokens + countTokens(run.text)
    try {
      o.onEnd({ reason, outcome, tokensUsed, logged })
    } catch (err) {
      o.logger.error('stream end bookkeeping failed', { error: String((err as Error)?.message ?? err) }, o.root)
    }
    readers.progress() // the final frame is ready
  }

  /** The answer as stored (its id), or undefined when it could not be. */
  async function store(answer: Omit<Answer, 'content'>): Promise<string | undefined> {
    try {
      return await o.save({ ...answer, content: run.text })
    } catch (err) {
      recordError(o.root, err, 'database_unavailable')
      o.logger.error('could not store the assistant message', { error: String((err as Error)?.message ?? err) }, o.root)
      return undefined
    }
  }

  /** The reader is gone and none came back in time: stop the upstream and keep what was generated. */
  async function cut() {
    if (run.ended) return
    const stopping = provider.stop('client disconnected')
    o.root.setAttribute(ATTR.errorType, 'client_abort')
    provider.span.setAttribute(ATTR.errorType, 'client_abort')
    await finish('client_abort', { status: 'cut', finish_reason: 'client_abort', input_tokens: null, output_tokens: run.seq })
    await stopping
  }

  return {
    traceId: o.traceId,
    streamId: o.streamId,
    root: o.root,
    finished,
    lastSeq: () => run.seq,
    take: (at: number) => frames?.take(at),
    terminal: () => frames?.terminal(),
    outcome: () => run.outcome,
    text: () => run.text,
    resumable: () => frames?.resumable() ?? false,
    advance: (): Promise<void> => run.ended ? finished : provider.read(),
    request(): void {
      if (!run.ended) void provider.read()
    },
    attach: readers.attach,
    release: readers.release,
    detach: readers.detach,
  } satisfies StreamSource & Record<string, unknown>
}

export type AnswerRun = ReturnType<typeof startAnswerRun>

function toOutcome(reason: EndReason, failure: Outcome | undefined, messageId: string | undefined, answer: Omit<Answer, 'content'>,
  run: { text: string; ttfbMs: number | undefined; traceId: string; startedAt: number }): Outcome {
  if (failure) return failure
  if (reason === 'client_abort') return { kind: 'cut' }
  if (messageId === undefined) return { kind: 'error', code: 'database_unavailable', message: 'the answer could not be stored' }
  return {
    kind: 'done', content: run.text,
    done: {
      trace_id: run.traceId, message_id: messageId, finish_reason: answer.finish_reason ?? 'stop',
      usage: { input_tokens: answer.input_tokens ?? 0, output_tokens: answer.output_tokens ?? 0 },
      ttfb_ms: round(run.ttfbMs ?? 0), duration_ms: round(performance.now() - run.startedAt),
    },
  }
}

const toEndStatus = (outcome: Outcome): EndStatus => outcome.kind === 'done' ? 'complete' : outcome.kind === 'cut' ? 'cut' : 'error'

interface ReadersOptions {
  graceMs: number
  root: Span
  /** A reader's leaving need not cut the run: it can be resumed. */
  detachable(): boolean
  ended(): boolean
  read(): Promise<void>
  cut(): Promise<void>
}

/**
 * Who reads the run: at most one connection; a newer one evicts the older. When the reader
 * leaves a resumable run, the run is read on without one (`read` until it ended or a reader
 * came back) and cut after the grace; otherwise it is cut at once.
 */
function createReaders(o: ReadersOptions) {
  let reader: RunReader | undefined
  let grace: ReturnType<typeof setTimeout> | undefined
  let resumes = 0
  const unread = async () => {
    while (!o.ended() && !reader) await o.read()
  }
  return {
    resumes: () => resumes,
    progress: () => reader?.progress(),
    stop: () => clearTimeout(grace),
    attach(next: RunReader, resumed = false) {
      clearTimeout(grace)
      grace = undefined
      if (resumed) resumes++
      const previous = reader
      reader = next
      if (previous && previous !== next) previous.evict()
    },
    release(r: RunReader) {
      if (reader === r) reader = undefined
    },
    /** The reader's connection went away before the end; resolves once a cut (if any, now) is stored. */
    async detach(r: RunReader): Promise<void> {
      if (reader !== r) return
      reader = undefined
      if (o.ended()) return
      if (!o.detachable() || o.graceMs <= 0) return o.cut()
      o.root.addEvent('client.disconnected', { 'streamscope.resume.grace_ms': o.graceMs })
      grace = setTimeout(() => void o.cut(), o.graceMs)
      void unread()
    },
  }
}
