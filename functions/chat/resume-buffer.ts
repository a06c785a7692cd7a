import type { AnswerRun, Retention } from './stream.ts'

export interface ResumeLimits {
  retentionMs: number
  maxStreams: number
  maxBytes: number
  maxStreamBytes: number
}

export interface ResumeSlot extends Retention {
  hold(run: AnswerRun): void
  /** The stream ended: its retention time starts. */
  ended(): void
}

/** Who a held stream is for, and what else it can be found by. */
export interface StreamOwner {
  userId: string
  /** The trace the stream's request lived in: the old `x-resume-trace-id` finds a user's stream by it. */
  traceId?: string
  /** The request's Idempotency-Key, when it carried one. */
  idempotencyKey?: string
}

interface Entry {
  run?: AnswerRun
  userId: string
  /** `${userId} ${Idempotency-Key}`, when the request carried one. */
  key?: string
  /** `${userId} ${trace id}`. */
  traceKey?: string
  bytes: number
  /** Clock time the stream ended; retention counts from here. */
  endedAt?: number
}

/**
 * The streams this process can resume, in memory, by the stream id the server made for
 * each (never by anything the caller chose). Bounded three ways: finished streams
 * expire after `retentionMs`; the count and the bytes held are capped, evicting finished
 * streams oldest first and otherwise refusing to hold more (the new stream or frame is
 * then simply not resumable). Expired entries go at the next call: no timers, so an idle
 * isolate has nothing scheduled.
 */
export function createResumeBuffer(limits: ResumeLimits, now: () => number = Date.now) {
  const index = createIndex()
  const expiry = createExpiry(limits.retentionMs, now, (streamId, entry) => {
    if (index.entries.get(streamId) === entry) index.remove(streamId)
  })
  const found = (e: Entry | undefined) => (e?.run ? { run: e.run, userId: e.userId } : undefined)

  return {
    enabled: limits.retentionMs > 0,
    /**
     * Makes room for a new stream; undefined when it cannot be held at all. The run is
     * handed over with `hold` once it exists (it needs the slot to be built).
     */
    register(streamId: string, owner: StreamOwner): ResumeSlot | undefined {
      if (limits.retentionMs <= 0) return undefined
      expiry.sweep()
      const { entries } = index
      if (entries.has(streamId)) return undefined // ids are the server's own UUIDs: never reused
      while (entries.size >= limits.maxStreams && index.evictOldestEnded());
      if (entries.size >= limits.maxStreams) return undefined
      const entry = index.add(streamId, owner)
      return createSlot(index, limits, streamId, entry, () => expiry.ended(streamId, entry))
    },
    get(streamId: string): { run: AnswerRun; userId: string } | undefined {
      expiry.sweep()
      return found(index.entries.get(streamId))
    },
    /**
     * The user's stream in this trace (the old resume header named streams by trace id):
     * only the caller's own, and only while exactly one of theirs is held in it.
     */
    byTrace(userId: string, traceId: string): { run: AnswerRun; userId: string } | undefined {
      expiry.sweep()
      const inTrace = index.byTrace.get(`${userId} ${traceId}`)
      if (!inTrace || inTrace.size !== 1) return undefined
      const [streamId] = inTrace
      return found(index.entries.get(streamId))
    },
    /** The stream a user's earlier request with this Idempotency-Key started, while held. */
    byIdempotencyKey(userId: string, idempotencyKey: string): { run: AnswerRun; streamId: string } | undefined {
      expiry.sweep()
      const streamId = index.byKey.get(`${userId} ${idempotencyKey}`)
      const run = streamId ? index.entries.get(streamId)?.run : undefined
      return run && streamId ? { run, streamId } : undefined
    },
    stats: () => ({ streams: index.entries.size, bytes: index.total }),
  }
}

export type ResumeBuffer = ReturnType<typeof createResumeBuffer>

/** The held streams (insertion order = age), what else finds them, and the bytes they hold. */
function createIndex() {
  const entries = new Map<string, Entry>()
  const byKey = new Map<string, string>() // user + Idempotency-Key -> stream id
  /** user + trace id -> the user's held streams in that trace (one trace may hold several chats). */
  const byTrace = new Map<string, Set<string>>()
  let total = 0

  function remove(streamId: string) {
    const e = entries.get(streamId)
    if (!e) return
    total -= e.bytes
    entries.delete(streamId)
    if (e.key && byKey.get(e.key) === streamId) byKey.delete(e.key)
    const inTrace = e.traceKey ? byTrace.get(e.traceKey) : undefined
    if (inTrace) {
      inTrace.delete(streamId)
      if (inTrace.size === 0) byTrace.delete(e.traceKey!)
    }
  }

  return {
    entries, byKey, byTrace, remove,
    get total() { return total },
    add(streamId: string, owner: StreamOwner): Entry {
      const key = owner.idempotencyKey ? `${owner.userId} ${owner.idempotencyKey}` : undefined
      const traceKey = owner.traceId ? `${owner.userId} ${owner.traceId}` : undefined
      const entry: Entry = { userId: owner.userId, bytes: 0, key, traceKey }
      entries.set(streamId, entry)
      if (key) byKey.set(key, streamId)
      if (traceKey) {
        const inTrace = byTrace.get(traceKey) ?? new Set<string>()
        inTrace.add(streamId)
        byTrace.set(traceKey, inTrace)
      }
      return entry
    },
    grow(entry: Entry, bytes: number) {
      entry.bytes += bytes
      total += bytes
    },
    /** Removes the oldest finished stream; false when none is. */
    evictOldestEnded(): boolean {
      for (const [id, e] of entries) {
        if (e.endedAt !== undefined) {
          remove(id)
          return true
        }
      }
      return false
    },
  }
}

type Index = ReturnType<typeof createIndex>

/** Ended entries in the order they ended (= expiry order): sweeping looks only at the front. */
function createExpiry(retentionMs: number, now: () => number, expire: (streamId: string, entry: Entry) => void) {
  const queue: { streamId: string; entry: Entry }[] = []
  let head = 0
  return {
    /** The stream ended: its retention time starts. */
    ended(streamId: string, entry: Entry) {
      if (entry.endedAt !== undefined) return
      entry.endedAt = now()
      queue.push({ streamId, entry })
    },
    sweep() {
      const t = now()
      while (head < queue.length) {
        const { streamId, entry } = queue[head]
        if (t - entry.endedAt! <= retentionMs) break
        expire(streamId, entry)
        queue[head++] = undefined as never
      }
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head)
        head = 0
      }
    },
  }
}

/** A registered stream's hold on the buffer: its bytes within both caps, its run, its end. */
function createSlot(index: Index, limits: ResumeLimits, streamId: string, entry: Entry, ended: () => void): ResumeSlot {
  const held = () => index.entries.get(streamId) === entry
  return {
    reserve(bytes) {
      if (!held() || entry.bytes + bytes > limits.maxStreamBytes) return false
      while (index.total + bytes > limits.maxBytes && index.evictOldestEnded());
      if (!held() || index.total + bytes > limits.maxBytes) return false
      index.grow(entry, bytes)
      return true
    },
    release: () => { if (held()) index.remove(streamId) },
    hold: (run) => { entry.run = run },
    ended,
  }
}
