import { formatComment } from '../../shared/sse/frames.ts'
import { createHeartbeat } from './heartbeat.ts'
import type { RunReader, StreamSource } from './source.ts'

export type ReaderEnd = 'done' | 'client_abort' | 'evicted'

export interface SseBodyOptions {
  /** Frames with seq above this are sent (0 for a new stream, Last-Event-ID for a resume). */
  fromSeq: number
  heartbeatMs: number
  resumed?: boolean
  onEnd?(end: ReaderEnd, framesSent: number): void
}

/** One connection's SSE body as text: what a web ReadableStream or a runtime's own socket writer sends. */
export interface SsePump {
  /**
   * The next chunk if one is ready: a frame or a `: heartbeat` comment, or null once the body
   * is complete. Undefined when nothing is ready yet: `wake` is then called (once) when there
   * may be something: a frame, the end, or a heartbeat that fell due. No promise per frame.
   */
  read(wake: () => void): string | null | undefined
  /** True once the terminal frame was handed out (the body is complete). */
  readonly complete: boolean
  /** The connection went away before the end. */
  cancel(): Promise<void>
}

const HEARTBEAT = formatComment('heartbeat')
const encoder = new TextEncoder()

/**
 * One connection's view of a run. Pull-driven: the model is read only when the client asked
 * for a chunk and every frame so far was taken, so a slow client slows the upstream instead of
 * growing a buffer. While a read waits on the model, a heartbeat that falls due answers it (the
 * model read stays in flight; its frame answers the next read). Heartbeats therefore go out
 * only to a client that is reading, and never pile up. Per frame: no timer, no promise.
 */
export function createSsePump(run: StreamSource, o: SseBodyOptions): SsePump {
  let cursor = o.fromSeq
  let sent = 0
  let closed = false
  let complete = false
  let beatDue = false
  let wake: (() => void) | undefined
  const rouse = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  const end = (how: ReaderEnd) => {
    if (closed) return false
    closed = true
    heartbeat.stop()
    o.onEnd?.(how, sent)
    return true
  }
  const heartbeat = createHeartbeat(o.heartbeatMs, () => {
    if (!wake) return // nobody is waiting: a client that is not reading gets no heartbeats queued
    beatDue = true
    rouse()
  })
  const reader: RunReader = {
    evict() {
      if (end('evicted')) rouse()
    },
    progress: rouse,
  }
  run.attach(reader, o.resumed)

  return {
    read(w) {
      if (closed) return null
      const frame = run.take(cursor + 1)
      if (frame !== undefined) {
        beatDue = false
        cursor += 1
        sent += 1
        heartbeat.sent()
        return frame
      }
      const terminal = run.terminal()
      if (terminal !== undefined) {
        run.release(reader)
        end('done')
        complete = true
        return terminal
      }
      if (beatDue) {
        beatDue = false
        heartbeat.sent()
        return HEARTBEAT
      }
      wake = w
      run.request()
      return undefined
    },
    get complete() { return complete },
    async cancel() {
      if (!end('client_abort')) return
      rouse()
      await run.detach(reader)
    },
  }
}

/**
 * A chat stream's SSE body: a web ReadableStream (what Deno.serve and the tests read) that also
 * offers its pump to a runtime entry writing text to its socket itself (the Node server does:
 * one less copy and no web stream machinery per frame). Either is read, never both.
 */
export interface SseBody extends ReadableStream<Uint8Array> {
  /**
   * The pump behind the stream, or undefined once the stream is being read (or was taken).
   * Taking it is final: the stream must not be read afterwards.
   */
  takePump(): SsePump | undefined
}

/** Whether a response body is an SseBody (whose pump a writer may take). */
export function isSseBody(body: ReadableStream<Uint8Array> | null): body is SseBody {
  return typeof (body as Partial<SseBody> | null)?.takePump === 'function'
}

/** The SSE body (highWaterMark 0: a chunk is made only when one is read). */
export function toSseBody(run: StreamSource, o: SseBodyOptions): SseBody {
  const pump = createSsePump(run, o)
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let resolvePull: (() => void) | undefined
  // Read as a stream, or the pump handed out: the other way is closed from then on.
  let claimed = false
  /** Hands the stream what the pump has; true if it had something (or the stream is over). */
  const deliver = (): boolean => {
    const chunk = pump.read(wake)
    if (chunk === undefined) return false
    try {
      if (chunk !== null) controller.enqueue(encoder.encode(chunk))
      if (chunk === null || pump.complete) controller.close()
    } catch { /* cancelled meanwhile */ }
    return true
  }
  const wake = () => {
    if (!deliver()) return
    const resolve = resolvePull
    resolvePull = undefined
    resolve?.()
  }
  const stream = new ReadableStream<Uint8Array>({
    start(c) { controller = c },
    pull() {
      claimed = true
      if (deliver()) return
      return new Promise<void>((resolve) => { resolvePull = resolve })
    },
    cancel: () => pump.cancel(),
  }, { highWaterMark: 0 })
  return Object.assign(stream, {
    takePump(): SsePump | undefined {
      if (claimed || stream.locked) return undefined
      claimed = true
      return pump
    },
  })
}
