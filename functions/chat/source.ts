import type { Span } from '@opentelemetry/api'
import { formatDone, formatError, readFrame, type DoneFrame, type ErrorFrame, type Received } from '../../shared/sse/frames.ts'

/** How a stream ended, for the JSON transport and the handler's bookkeeping. */
export type Outcome =
  | { kind: 'done'; content: string; done: DoneFrame }
  | { kind: 'error'; code: string; message: string; retryAfter?: number }
  | { kind: 'cut' }

/** One connection reading a stream; a newer connection evicts the older. */
export interface RunReader {
  evict(): void
  /** A frame was added or the stream ended (after a `request`). */
  progress(): void
}

/**
 * What a connection reads: the run generating the answer in this isolate (stream.ts), or a
 * stream another isolate generates, followed through its frame log (stream-follow.ts).
 */
export interface StreamSource {
  readonly traceId: string
  readonly streamId: string
  /** The stream's request span (a resume's spans go under it, on its trace). */
  readonly root: Span
  lastSeq(): number
  /** The `chat.delta` frame of `seq` if it is here. */
  take(seq: number): string | undefined
  /** The final frame, once the stream ended. */
  terminal(): string | undefined
  outcome(): Outcome | undefined
  text(): string
  /** Resolves when a frame was added or the stream ended. */
  advance(): Promise<void>
  /** Asks for the next frame; the attached reader's `progress` runs when there is news. */
  request(): void
  attach(reader: RunReader, resumed?: boolean): void
  /** The reader finished normally (it has the final frame). */
  release(reader: RunReader): void
  /** The reader's connection went away before the end. */
  detach(reader: RunReader): Promise<void>
}

export const CUT_MESSAGES = {
  client: 'the stream was cut after the client disconnected; the partial answer was saved',
  lost: 'the stream was cut: the server generating it stopped; the partial answer was saved',
} as const

export function toTerminalFrame(traceId: string, outcome: Outcome): string {
  switch (outcome.kind) {
    case 'done': return formatDone(outcome.done)
    case 'error': return formatError({ trace_id: traceId, code: outcome.code, message: outcome.message })
    case 'cut': return formatError({ trace_id: traceId, code: 'stream_cut', message: CUT_MESSAGES.client })
  }
}

/** The outcome a stored final frame says, with the text its deltas made. */
export function toOutcomeOf(terminal: string, content: string): Outcome {
  const frame = readFrame(terminal)
  // The server wrote it: a done frame is whole.
  if (frame?.event === 'chat.done') return { kind: 'done', content, done: frame.data as DoneFrame }
  const data: Received<ErrorFrame> = frame?.event === 'error' ? frame.data : {}
  return { kind: 'error', code: String(data.code ?? 'stream_error'), message: String(data.message ?? '') }
}
