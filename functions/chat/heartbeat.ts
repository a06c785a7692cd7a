import { formatComment } from '../../shared/sse/frames.ts'

export const HEARTBEAT = new TextEncoder().encode(formatComment('heartbeat'))

export interface Heartbeat {
  /** A frame or a comment went out. */
  sent(): void
  /** True once `work` settles, false if a heartbeat falls due first (`work` keeps running: wait on it again). */
  wait(work: Promise<unknown>): Promise<boolean>
  stop(): void
}

/**
 * The heartbeat of one SSE body: due `ms` after the last byte went out, and taken only by a pull
 * that is waiting on the model, so none pile up behind a slow client. One timer per stream,
 * re-armed lazily: a frame costs an assignment, not a timer (thousands of streams × 10 frames/s).
 */
export function createHeartbeat(ms: number): Heartbeat {
  let last = Date.now()
  let wake: (() => void) | undefined
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(check, ms)
  function check() {
    const quiet = Date.now() - last
    if (quiet >= ms) wake?.()
    timer = setTimeout(check, quiet >= ms ? ms : ms - quiet)
  }
  return {
    sent() { last = Date.now() },
    wait(work) {
      return new Promise<boolean>((resolve) => {
        const settle = (moved: boolean) => () => {
          if (wake === w) wake = undefined
          resolve(moved)
        }
        const w = settle(false)
        wake = w
        work.then(settle(true), settle(true))
      })
    },
    stop() {
      clearTimeout(timer)
      wake = undefined
    },
  }
}
