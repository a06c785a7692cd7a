export interface Heartbeat {
  /** A frame or a comment went out. */
  sent(): void
  stop(): void
}

/**
 * The heartbeat clock of one SSE body: `due()` runs once `ms` have passed since the last byte
 * went out (and again every `ms` of silence after that). One timer per stream, re-armed lazily:
 * a frame costs an assignment, not a timer or a promise (thousands of streams × 10 frames/s).
 */
export function createHeartbeat(ms: number, due: () => void): Heartbeat {
  let last = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(check, ms)
  function check() {
    const quiet = Date.now() - last
    if (quiet >= ms) due()
    if (timer !== undefined) timer = setTimeout(check, quiet >= ms ? ms : ms - quiet)
  }
  return {
    sent() { last = Date.now() },
    stop() {
      clearTimeout(timer)
      timer = undefined
    },
  }
}
