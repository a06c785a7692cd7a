import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createFrameLog, type FrameBatch, type FrameLogOptions } from './frame-log.ts'

/** A log whose writes are recorded and settle only when the test says. */
function harness(o: Partial<FrameLogOptions> = {}) {
  const writes: { batch: FrameBatch; settle(err?: Error): void }[] = []
  const errors: unknown[] = []
  const log = createFrameLog({
    flushMs: 100, maxFrames: 4, beatMs: 1000,
    write: (batch) => new Promise<void>((resolve, reject) => {
      writes.push({ batch, settle: (err) => (err ? reject(err) : resolve()) })
    }),
    onError: (err) => errors.push(err),
    ...o,
  })
  const settleLast = async (err?: Error) => {
    writes.at(-1)!.settle(err)
    await vi.advanceTimersByTimeAsync(0)
  }
  return { log, writes, errors, settleLast, batches: () => writes.map((w) => w.batch) }
}

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

describe('frame log', () => {
  it('writes frames in batches: after flushMs, or at once when maxFrames are pending', async () => {
    const h = harness()
    h.log.append('a')
    h.log.append('b')
    await vi.advanceTimersByTimeAsync(99)
    expect(h.writes).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.batches()).toEqual([{ firstSeq: 1, deltas: ['a', 'b'], lastSeq: 2 }])
    await h.settleLast()
    for (const d of ['c', 'd', 'e', 'f']) h.log.append(d)
    expect(h.batches()[1]).toEqual({ firstSeq: 3, deltas: ['c', 'd', 'e', 'f'], lastSeq: 6 })
  })

  it('has one write in flight: frames arriving meanwhile go in the next batch, in order', async () => {
    const h = harness()
    h.log.append('a')
    await vi.advanceTimersByTimeAsync(100)
    for (const d of ['b', 'c', 'd', 'e', 'f']) h.log.append(d) // past maxFrames, but a write is in flight
    expect(h.writes).toHaveLength(1)
    await h.settleLast()
    expect(h.batches()).toEqual([
      { firstSeq: 1, deltas: ['a'], lastSeq: 1 },
      { firstSeq: 2, deltas: ['b', 'c', 'd', 'e', 'f'], lastSeq: 6 },
    ])
  })

  it('beats while no frame flows, and not while frames do', async () => {
    const h = harness()
    await vi.advanceTimersByTimeAsync(1000)
    expect(h.batches()).toEqual([{ firstSeq: 1, deltas: [], lastSeq: 0 }])
    await h.settleLast()
    await vi.advanceTimersByTimeAsync(900)
    h.log.append('a')
    await vi.advanceTimersByTimeAsync(100)
    expect(h.batches()[1]).toEqual({ firstSeq: 1, deltas: ['a'], lastSeq: 1 })
    await h.settleLast()
    await vi.advanceTimersByTimeAsync(999)
    expect(h.writes).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.batches()[2]).toEqual({ firstSeq: 2, deltas: [], lastSeq: 1 })
  })

  it('keeps the frames of a failed write for the next one', async () => {
    const h = harness()
    h.log.append('a')
    await vi.advanceTimersByTimeAsync(100)
    h.log.append('b')
    await h.settleLast(new Error('database away'))
    expect(h.errors).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(h.batches()[1]).toEqual({ firstSeq: 1, deltas: ['a', 'b'], lastSeq: 2 })
  })

  it('ends after the write in flight, with what is pending and the final frame, and writes nothing after', async () => {
    const h = harness()
    h.log.append('a')
    await vi.advanceTimersByTimeAsync(100)
    h.log.append('b')
    const ended = h.log.end('complete', 'event: chat.done\n…')
    h.log.append('late')
    expect(h.writes).toHaveLength(1)
    await h.settleLast()
    expect(h.batches()[1]).toEqual({ firstSeq: 2, deltas: ['b'], lastSeq: 2, end: { status: 'complete', terminal: 'event: chat.done\n…' } })
    await h.settleLast()
    await ended
    await vi.advanceTimersByTimeAsync(10_000)
    expect(h.writes).toHaveLength(2)
    expect(h.log.end('cut', 'again')).toBe(ended)
  })

  it('costs a statement per batch, not per frame: 300 frames at 40 a second in 100 ms batches', async () => {
    const h = harness({ maxFrames: 64 })
    for (let i = 0; i < 300; i++) {
      h.log.append(String(i))
      await vi.advanceTimersByTimeAsync(25)
      if (h.writes.length && !h.writes.at(-1)!.batch.end) h.writes.at(-1)!.settle()
    }
    const deltas = h.batches().flatMap((b) => b.deltas)
    expect(deltas).toEqual(Array.from({ length: 300 }, (_, i) => String(i)))
    expect(h.writes.length).toBeLessThanOrEqual(300 / 4 + 1)
  })
})
