import { createHeartbeat, HEARTBEAT, type Heartbeat } from './heartbeat.ts'
import type { AnswerRun, RunReader } from './stream.ts'

export type ReaderEnd = 'done' | 'client_abort' | 'evicted'

export interface SseBodyOptions {
  /** Frames with seq above this are sent (0 for a new stream, Last-Event-ID for a resume). */
  fromSeq: number
  heartbeatMs: number
  resumed?: boolean
  onEnd?(end: ReaderEnd, framesSent: number): void
}

/**
 * One connection's view of a run as an SSE body. highWaterMark 0: a frame is produced
 * only when the client has taken the previous one. While the run waits on the model,
 * a `: heartbeat` comment goes out whenever one falls due (createHeartbeat); the model
 * read stays in flight and is waited on again by the next pull, so heartbeats never
 * pile up either.
 */
export function toSseBody(run: AnswerRun, o: SseBodyOptions): ReadableStream<Uint8Array> {
  let cursor = o.fromSeq
  let sent = 0
  let closed = false
  let controller!: ReadableStreamDefaultController<Uint8Array>
  let heartbeat: Heartbeat | undefined
  const end = (how: ReaderEnd) => {
    if (closed) return false
    closed = true
    heartbeat?.stop()
    o.onEnd?.(how, sent)
    return true
  }
  const reader: RunReader = {
    evict() {
      if (!end('evicted')) return
      try { controller.close() } catch { /* already closed */ }
    },
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
      heartbeat = createHeartbeat(o.heartbeatMs)
      run.attach(reader, o.resumed)
    },
    async pull(c) {
      while (!closed) {
        const frame = run.take(cursor + 1)
        if (frame) {
          cursor += 1
          sent += 1
          c.enqueue(frame)
          heartbeat!.sent()
          return
        }
        const terminal = run.terminal()
        if (terminal) {
          run.release(reader)
          end('done')
          c.enqueue(terminal)
          c.close()
          return
        }
        const moved = await heartbeat!.wait(run.advance())
        if (closed) return
        if (!moved) {
          c.enqueue(HEARTBEAT)
          heartbeat!.sent()
          return
        }
      }
    },
    async cancel() {
      if (end('client_abort')) await run.detach(reader)
    },
  }, { highWaterMark: 0 })
}
