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

interface Entry {
  run?: AnswerRun
  userId: string
  /** `${userId} ${Idempotency-Key}`, when the request carried one. */
  key?: string
  bytes: number
  /** Clock time the stream ended; retention counts from here. */
  endedAt?: number
}

/**
 * The streams this process can resume, in memory. Bounded three ways: finished streams
 * expire after `retentionMs`; the count and the bytes held are capped, evicting finished
 * streams oldest first and otherwise refusing to hold more (the new stream or frame is
 * then simply not resumable). Expired entries go at the next call: no timers, so an idle
 * isolate has nothing scheduled.
 */
export function createResumeBuffer(limits: ResumeLimits, now: () => number = Date.now) {
  const entries = new Map<string, Entry>() // insertion order = age
  const byKey = new Map<string, string>() // user + Idempotency-Key -> trace id
  /** Ended entries in the order they ended (= expiry order): sweeping looks only at the front. */
  const endedQueue: { traceId: string; entry: Entry }[] = []
  let endedHead = 0
  let total = 0

  const remove = (traceId: string) => {
    const e = entries.get(traceId)
    if (!e) return
    total -= e.bytes
    entries.delete(traceId)
    if (e.key && byKey.get(e.key) === traceId) byKey.delete(e.key)
  }
  const sweep = () => {
    const t = now()
    while (endedHead < endedQueue.length) {
      const { traceId, entry } = endedQueue[endedHead]
      if (t - entry.endedAt! <= limits.retentionMs) break
      if (entries.get(traceId) === entry) remove(traceId)
      endedQueue[endedHead++] = undefined as never
    }
    if (endedHead > 1024 && endedHead * 2 > endedQueue.length) {
      endedQueue.splice(0, endedHead)
      endedHead = 0
    }
  }
  const evictOldestEnded = (): boolean => {
    for (const [id, e] of entries) {
      if (e.endedAt !== undefined) {
        remove(id)
        return true
      }
    }
    return false
  }

  return {
    enabled: limits.retentionMs > 0,
    /**
     * Makes room for a new stream; undefined when it cannot be held at all. The run is
     * handed over with `hold` once it exists (it needs the slot to be built).
     */
    register(traceId: string, userId: string, idempotencyKey?: string): ResumeSlot | undefined {
      if (limits.retentionMs <= 0) return undefined
      sweep()
      // A caller that reuses its traceparent starts streams with the same trace id: a
      // finished stream of the same user makes way; a running one (or another user's)
      // keeps the id, and the newer stream is not resumable. Never the wrong frames.
      const existing = entries.get(traceId)
      if (existing) {
        if (existing.endedAt === undefined || existing.userId !== userId) return undefined
        remove(traceId)
      }
      while (entries.size >= limits.maxStreams && evictOldestEnded());
      if (entries.size >= limits.maxStreams) return undefined
      const key = idempotencyKey ? `${userId} ${idempotencyKey}` : undefined
      const entry: Entry = { userId, bytes: 0, key }
      entries.set(traceId, entry)
      if (key) byKey.set(key, traceId)
      const held = () => entries.get(traceId) === entry
      return {
        reserve(bytes) {
          if (!held() || entry.bytes + bytes > limits.maxStreamBytes) return false
          while (total + bytes > limits.maxBytes && evictOldestEnded());
          if (!held() || total + bytes > limits.maxBytes) return false
          entry.bytes += bytes
          total += bytes
          return true
        },
        release: () => { if (held()) remove(traceId) },
        hold: (run) => { entry.run = run },
        ended: () => {
          if (entry.endedAt !== undefined) return
          entry.endedAt = now()
          endedQueue.push({ traceId, entry })
        },
      }
    },
    get(traceId: string): { run: AnswerRun; userId: string } | undefined {
      sweep()
      const e = entries.get(traceId)
      return e?.run ? { run: e.run, userId: e.userId } : undefined
    },
    /** The stream a user's earlier request with this Idempotency-Key started, while held. */
    byIdempotencyKey(userId: string, idempotencyKey: string): { run: AnswerRun; traceId: string } | undefined {
      sweep()
      const traceId = byKey.get(`${userId} ${idempotencyKey}`)
      const run = traceId ? entries.get(traceId)?.run : undefined
      return run && traceId ? { run, traceId } : undefined
    },
    stats: () => ({ streams: entries.size, bytes: total }),
  }
}

export type ResumeBuffer = ReturnType<typeof createResumeBuffer>
