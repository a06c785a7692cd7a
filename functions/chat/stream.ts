import type { Span, Tracer } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { recordError } from '../../shared/telemetry/spans.ts'
import type { ChatMessage, ChatProvider } from '../providers/types.ts'
import type { FrameLog } from './frame-log.ts'
import { openProviderRead, type ProviderFailure } from './provider-read.ts'
import { createRunFrames, type Retention, type RunFrames } from './run-frames.ts'
import { createReaders } from './run-readers.ts'
import { recordProviderEnd, recordRunEnd, type Answer, type EndReason, type RunFacts } from './run-record.ts'
import { addDelta, FAILED_ANSWER, newTally, toCompleteAnswer, toEndStatus, toFailureOutcome, tokensUsedBy, toOutcome, toRunFacts } from './run-tally.ts'
import { toTerminalFrame, type Outcome, type StreamSource } from './source.ts'

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
 * held here (run-frames.ts), the frame log (frame-log.ts), who reads it (run-readers.ts), what it
 * produced (run-tally.ts), the record of the run (run-record.ts).
 */
export function startAnswerRun(o: AnswerRunOptions) {
  const frames = o.frames ? createRunFrames(o.traceId, o.root, o.retention) : undefined
  const tally = newTally()
  const run = { ended: false, outcome: undefined as Outcome | undefined }
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => { resolveFinished = r })

  const provider = openProviderRead(o, {
    delta(text) {
      const at = performance.now() - o.startedAt
      if (addDelta(tally, text, at)) {
        provider.span.setAttribute(ATTR.timeToFirstChunk, at / 1000)
        provider.span.addEvent('first_token')
      }
      frames?.keep(tally.seq, text)
      o.log?.append(text)
      readers.progress()
    },
    finished(e) {
      provider.span.setAttribute(ATTR.responseModel, e.response_model)
      if (e.usage.estimated) provider.span.setAttribute(ATTR.usageEstimated, true)
      return finish('done', toCompleteAnswer(e), undefined, e.usage.estimated)
    },
    failed: (f: ProviderFailure) => finish(f.reason, FAILED_ANSWER, toFailureOutcome(f)),
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
    const facts = toRunFacts(tally, { reason, answer, estimated, durationMs: performance.now() - o.startedAt, resumes: readers.resumes() })
    recordProviderEnd(provider.span, facts, o.captureContent ? { messages: o.messages } : undefined)
    o.messages = [] // a finished run may be held for resume for minutes: let the prompt (history) go
    const messageId = await storeAnswer(o, { ...answer, content: tally.text })
    const outcome = run.outcome = toOutcome(reason, failure, messageId, answer, { ...tally, traceId: o.traceId, startedAt: o.startedAt })
    const logged = endRun(o, frames, outcome, facts)
    resolveFinished()
    notifyEnd(o, { reason, outcome, tokensUsed: tokensUsedBy(tally, answer, o.estimatedInputTokens), logged })
    readers.progress() // the final frame is ready
  }

  /** The reader is gone and none came back in time: stop the upstream and keep what was generated. */
  async function cut() {
    if (run.ended) return
    const stopping = provider.stop('client disconnected')
    o.root.setAttribute(ATTR.errorType, 'client_abort')
    provider.span.setAttribute(ATTR.errorType, 'client_abort')
    await finish('client_abort', { status: 'cut', finish_reason: 'client_abort', input_tokens: null, output_tokens: tally.seq })
    await stopping
  }

  return {
    traceId: o.traceId,
    streamId: o.streamId,
    root: o.root,
    finished,
    lastSeq: () => tally.seq,
    take: (at: number) => frames?.take(at),
    terminal: () => frames?.terminal(),
    outcome: () => run.outcome,
    text: () => tally.text,
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

/** The run's final frame kept and logged, its request span closed; resolves once the log has the end. */
function endRun(o: Pick<AnswerRunOptions, 'traceId' | 'log' | 'logger' | 'root' | 'captureContent'>, frames: RunFrames | undefined, outcome: Outcome, facts: RunFacts): Promise<void> {
  const terminal = toTerminalFrame(o.traceId, outcome)
  frames?.keepTerminal(terminal, facts.frames)
  const logged = o.log?.end(toEndStatus(outcome), terminal).catch((err) =>
    o.logger.warn('could not log the stream’s end', { error: errorText(err) }, o.root)) ?? Promise.resolve()
  recordRunEnd(o.root, o.logger, { ...facts, bytes: frames?.bytes() ?? 0 }, outcome, o.captureContent)
  return logged
}

/** The handler's bookkeeping; its failure is logged, never the run's. */
function notifyEnd(o: Pick<AnswerRunOptions, 'onEnd' | 'logger' | 'root'>, summary: RunSummary): void {
  try {
    o.onEnd(summary)
  } catch (err) {
    o.logger.error('stream end bookkeeping failed', { error: errorText(err) }, o.root)
  }
}

const errorText = (err: unknown) => String((err as Error)?.message ?? err)

/** The answer as stored (its id), or undefined when it could not be: the stream then ends with database_unavailable. */
async function storeAnswer(o: Pick<AnswerRunOptions, 'save' | 'root' | 'logger'>, answer: Answer): Promise<string | undefined> {
  try {
    return await o.save(answer)
  } catch (err) {
    recordError(o.root, err, 'database_unavailable')
    o.logger.error('could not store the assistant message', { error: errorText(err) }, o.root)
    return undefined
  }
}
