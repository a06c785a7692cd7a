// A stream's deltas on their way to the database, in batches: a statement per frame would put a
// round trip on every token of every stream. Frames wait at most `flushMs` (or until `maxFrames`
// are pending), one write is in flight at a time, and while no frame flows a beat (an empty
// batch) says every `beatMs` that the generating isolate is alive: followers on other isolates
// take a stream whose beats stopped for cut (stream-follow.ts).

export type EndStatus = 'complete' | 'error' | 'cut'

export interface FrameBatch {
  /** The seq of deltas[0]. */
  firstSeq: number
  deltas: string[]
  /** The last seq produced so far (firstSeq + deltas.length - 1, or the previous batch's). */
  lastSeq: number
  /** The stream ended: its final frame as first sent. Only ever on the last batch. */
  end?: { status: EndStatus; terminal: string }
}

export interface FrameLogOptions {
  write(batch: FrameBatch): Promise<void>
  flushMs: number
  maxFrames: number
  beatMs: number
  /** A batch could not be written; its frames stay pending and go with the next write. */
  onError?(err: unknown): void
}

export interface FrameLog {
  append(delta: string): void
  /** Writes what is pending with the final frame, after any write in flight; once. */
  end(status: EndStatus, terminal: string): Promise<void>
}

export function createFrameLog(o: FrameLogOptions): FrameLog {
  let pending: string[] = []
  let lastSeq = 0
  let inFlight: Promise<void> | undefined
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let beatTimer: ReturnType<typeof setTimeout> | undefined
  let ending: FrameBatch['end']
  let ended: Promise<void> | undefined

  const batch = (): FrameBatch => {
    const deltas = pending
    pending = []
    return { firstSeq: lastSeq - deltas.length + 1, deltas, lastSeq, ...(ending ? { end: ending } : {}) }
  }

  /** Writes what is pending (a beat when nothing is) unless a write is in flight: its end reschedules. */
  function flush(): Promise<void> | undefined {
    clearTimeout(flushTimer)
    flushTimer = undefined
    if (inFlight) return undefined
    clearTimeout(beatTimer)
    const b = batch()
    inFlight = o.write(b).then(() => {
      inFlight = undefined
      afterWrite()
    }, (err) => {
      inFlight = undefined
      pending = [...b.deltas, ...pending] // kept, in order, for the next write
      o.onError?.(err)
      if (b.end) throw err
      afterWrite()
    })
    return inFlight
  }

  function afterWrite() {
    if (ending) return
    if (pending.length >= o.maxFrames) void flush()
    else if (pending.length) flushTimer ??= setTimeout(flush, o.flushMs)
    beatTimer = setTimeout(flush, o.beatMs)
  }

  async function writeEnd(): Promise<void> {
    while (inFlight) await inFlight.catch(() => {})
    await flush()
  }

  beatTimer = setTimeout(flush, o.beatMs)

  return {
    append(delta) {
      if (ending) return
      pending.push(delta)
      lastSeq += 1
      if (inFlight) return // afterWrite picks them up
      if (pending.length >= o.maxFrames) void flush()
      else flushTimer ??= setTimeout(flush, o.flushMs)
    },
    end(status, terminal) {
      if (ended) return ended
      ending = { status, terminal }
      clearTimeout(beatTimer)
      ended = writeEnd()
      return ended
    },
  }
}
