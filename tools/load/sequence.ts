// Lost and repeated frames, from the `seq` of the deltas one answer delivered (across resumes).
// The server numbers deltas 1, 2, 3… per answer, so a jump is a frame the client never saw and a
// seq at or below the highest one seen is a repeat (TCP keeps order inside one connection; a
// resume asks for seq > Last-Event-ID, so anything else is a bug somewhere).

export interface SequenceCount {
  /** Deltas accepted: each seq counted once. */
  frames: number
  /** Seqs skipped over: missing from the answer. */
  lost: number
  /** Deltas whose seq was not above the highest seen: repeated (or arrived out of order). */
  repeated: number
  /** Highest seq seen. */
  last: number
}

export interface SequenceTracker extends Readonly<SequenceCount> {
  /** Returns 'ok', 'gap' (accepted after a jump) or 'repeat' (not accepted). */
  accept(seq: number): 'ok' | 'gap' | 'repeat'
  /** A new answer starts (the client restarted the chat): seqs begin again at 1. */
  restart(): void
  /**
   * The stream ended with `expected` deltas in total (when the server says so): deltas missing at
   * the tail count as lost too.
   */
  end(expected?: number): void
}

export function createSequenceTracker(): SequenceTracker {
  const c: SequenceCount = { frames: 0, lost: 0, repeated: 0, last: 0 }
  return {
    accept(seq) {
      if (!Number.isInteger(seq) || seq <= c.last) {
        c.repeated++
        return 'repeat'
      }
      const skipped = seq - c.last - 1
      c.lost += skipped
      c.last = seq
      c.frames++
      return skipped ? 'gap' : 'ok'
    },
    restart() { c.last = 0 },
    end(expected) {
      if (expected !== undefined && expected > c.last) {
        c.lost += expected - c.last
        c.last = expected
      }
    },
    get frames() { return c.frames },
    get lost() { return c.lost },
    get repeated() { return c.repeated },
    get last() { return c.last },
  }
}
