import type { Span } from '@opentelemetry/api'
import { formatDelta, formatError } from '../../shared/sse/frames.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import { CUT_MESSAGES, toOutcomeOf, type Outcome, type RunReader, type StreamSource } from './source.ts'
import { spanOfStream, type FollowState, type StreamLogStore, type StreamRow } from './stream-log-store.ts'

export interface FollowOptions {
  store: StreamLogStore
  stream: StreamRow
  /** Frames up to this seq are not needed (the reader has them): the log is read from the next. */
  fromSeq: number
  /** Between polls while the stream is live and the last poll brought nothing. */
  pollMs: number
  logger: Logger
  /** The follower's request span: a cut found here is logged on it. */
  span: Span
  /** The stream was found stale and this follower cut it. */
  onCut?(): void
}

/**
 * A stream another isolate generates (or generated), read from its frame log: polled when a
 * reader asks for a frame this side does not have, at once after a poll that brought news, else
 * after `pollMs`. A live stream whose beats stopped is cut here (once, by whichever follower
 * sees it first): the stored prefix, then `stream_cut`.
 */
export function followStream(o: FollowOptions): StreamSource {
  const { stream_id: streamId, trace_id: traceId } = o.stream
  const root = spanOfStream(o.stream)
  const base = o.fromSeq
  const deltas: string[] = [] // deltas[i]: the text of seq base + i + 1
  const held = () => base + deltas.length
  let terminal: string | undefined
  let lastSeq = o.stream.last_seq
  let text = ''
  let reader: RunReader | undefined
  let polling: Promise<void> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let quiet = false
  let stopped = false

  function apply(state: FollowState) {
    const before = deltas.length
    for (const [firstSeq, batch] of state.batches) {
      for (let i = Math.max(0, held() + 1 - firstSeq); i < batch.length; i++) deltas.push(batch[i])
    }
    for (let i = before; i < deltas.length; i++) text += deltas[i]
    lastSeq = Math.max(lastSeq, state.last_seq)
    // The final frame counts once every logged delta is here (it is written with the last ones).
    if (state.terminal !== null && held() >= state.last_seq) terminal = state.terminal
    quiet = deltas.length === before && terminal === undefined
  }

  async function poll(): Promise<void> {
    try {
      const state = await o.store.follow(streamId, held())
      if (!state) throw new Error('the stream is no longer logged')
      apply(state)
      if (terminal === undefined && state.stale && held() >= state.last_seq) await cutLost()
    } catch (err) {
      quiet = true
      o.logger.warn('could not read a stream’s frame log; retrying', { stream_id: streamId, error: String((err as Error)?.message ?? err) }, o.span)
    }
  }

  async function cutLost() {
    const frame = formatError({ trace_id: traceId, code: 'stream_cut', message: CUT_MESSAGES.lost })
    if (await o.store.cut(streamId, frame)) {
      o.logger.warn('chat stream cut: the isolate generating it stopped', { stream_id: streamId, last_seq: held() }, o.span)
      o.onCut?.()
    }
    quiet = false // cut here or by someone else: the next poll reads the final frame
  }

  function next(): Promise<void> {
    if (polling) return polling
    const wait = quiet ? new Promise<void>((r) => { timer = setTimeout(r, o.pollMs) }) : Promise.resolve()
    polling = wait.then(() => { timer = undefined; return stopped ? undefined : poll() }).finally(() => { polling = undefined })
    return polling
  }

  const have = () => terminal !== undefined
  return {
    traceId, streamId, root,
    lastSeq: () => Math.max(lastSeq, held()),
    take: (seq) => seq > base && seq <= held() ? formatDelta({ trace_id: traceId, seq, delta: deltas[seq - base - 1] }) : undefined,
    terminal: () => terminal,
    outcome: (): Outcome | undefined => terminal === undefined ? undefined : toOutcomeOf(terminal, text),
    /** The answer's text so far (all of it only when followed from seq 0). */
    text: () => text,
    advance: () => have() ? Promise.resolve() : next(),
    request() {
      if (have() || stopped) return
      void next().then(() => reader?.progress())
    },
    attach(r) { reader = r },
    release(r) { if (reader === r) { reader = undefined; stopped = true } },
    async detach(r) {
      if (reader !== r) return
      reader = undefined
      stopped = true
      clearTimeout(timer)
    },
  }
}
