/**
 * Runs `beat` every `everyMs` while `active()` says this process has requests on record, and
 * not at all otherwise: an idle isolate writes nothing. `poke()` starts it (a request went on
 * record); it stops by itself at the first tick with nothing active. One beat at a time; a
 * failed beat is reported and the next tick tries again, so a database blip only ages the
 * heartbeat, which the deadline (a few beats long) absorbs.
 */
export function createHeartbeat(o: {
  everyMs: number
  active: () => boolean
  beat: () => Promise<void>
  onError: (err: unknown) => void
}) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let beating = false

  function arm() {
    timer = setTimeout(tick, o.everyMs)
    // Node: a heartbeat must not keep the process alive on its own.
    ;(timer as { unref?: () => void }).unref?.()
  }

  async function tick() {
    timer = undefined
    if (!o.active()) return
    arm()
    if (beating) return
    beating = true
    try { await o.beat() } catch (err) { o.onError(err) } finally { beating = false }
  }

  return {
    poke() { if (!timer) arm() },
    stop() { if (timer) { clearTimeout(timer); timer = undefined } },
    get running() { return timer !== undefined },
  }
}
