/**
 * Tells `onDrops` about dropped rows at most once per `everyMs`, and only when there were new
 * ones: at once when the window is over, else by one timer at its end.
 */
export function createDropReporter<S extends { dropped: number }>(o: {
  onDrops?: (report: S & { dropped_since_last: number }) => void
  everyMs: number
  /** The pipeline's figures, read when a report is made. */
  snapshot: () => S
}) {
  let reported = 0
  let lastReport = -Infinity
  let timer: ReturnType<typeof setTimeout> | undefined

  function report() {
    if (!o.onDrops || timer) return
    const stats = o.snapshot()
    if (stats.dropped === reported) return
    const wait = lastReport + o.everyMs - Date.now()
    if (wait > 0) {
      timer = setTimeout(() => { timer = undefined; report() }, wait)
      ;(timer as { unref?: () => void }).unref?.()
      return
    }
    lastReport = Date.now()
    const since = stats.dropped - reported
    reported = stats.dropped
    try { o.onDrops({ ...stats, dropped_since_last: since }) } catch { /* a reporter must not break the pipeline */ }
  }

  return {
    /** Rows were dropped (the snapshot counts them). */
    report,
    stop() { if (timer) { clearTimeout(timer); timer = undefined } },
  }
}
