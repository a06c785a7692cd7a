import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createReaders, type ReadersOptions } from './run-readers.ts'
import type { RunReader } from './source.ts'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

function reader() {
  const seen = { evicted: 0, progress: 0 }
  const r: RunReader = { evict: () => { seen.evicted++ }, progress: () => { seen.progress++ } }
  return { r, seen }
}

/** A run of `left` more provider reads, 10 ms each; `cut` ends it. */
function harness(o: Partial<ReadersOptions> & { left?: number } = {}) {
  const memory = new InMemorySpanExporter()
  const root = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t').startSpan('run')
  const run = { ended: false, reads: 0, cuts: 0, left: o.left ?? Infinity }
  const readers = createReaders({
    graceMs: 1000, root, detachable: () => true, ended: () => run.ended,
    read: async () => { run.reads++; await new Promise((r) => setTimeout(r, 10)); if (--run.left <= 0) run.ended = true },
    cut: async () => { run.cuts++; run.ended = true },
    ...o,
  })
  const events = () => { root.end(); return memory.getFinishedSpans()[0].events }
  /** A reader attaches and its connection goes away before the end. */
  const leave = async () => {
    const a = reader()
    readers.attach(a.r)
    await readers.detach(a.r)
  }
  return { readers, run, events, leave }
}

describe('run readers', () => {
  it('has one reader: a newer one evicts the older, and only the current one hears of progress', () => {
    const h = harness()
    const a = reader()
    const b = reader()
    h.readers.attach(a.r)
    h.readers.attach(b.r, true)
    h.readers.progress()
    expect(a.seen).toEqual({ evicted: 1, progress: 0 })
    expect(b.seen).toEqual({ evicted: 0, progress: 1 })
    expect(h.readers.resumes()).toBe(1)
    h.readers.release(a.r) // not the reader any more: nothing changes
    h.readers.progress()
    expect(b.seen.progress).toBe(2)
  })

  it('cuts at once when the reader leaves a run that cannot be resumed', async () => {
    const h = harness({ detachable: () => false })
    await h.leave()
    expect(h.run.cuts).toBe(1)
  })

  it('reads a resumable run on without a reader, and cuts it after the grace', async () => {
    const h = harness()
    await h.leave()
    await vi.advanceTimersByTimeAsync(999)
    expect(h.run.cuts).toBe(0)
    expect(h.run.reads).toBeGreaterThan(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.run.cuts).toBe(1)
    expect(h.events().map((e) => [e.name, e.attributes])).toEqual([['client.disconnected', { 'streamscope.resume.grace_ms': 1000 }]])
  })

  it('stops reading on and keeps the run when a reader comes back within the grace', async () => {
    const h = harness()
    await h.leave()
    await vi.advanceTimersByTimeAsync(500)
    h.readers.attach(reader().r, true)
    const reads = h.run.reads
    await vi.advanceTimersByTimeAsync(5000)
    expect(h.run.cuts).toBe(0)
    expect(h.run.reads).toBe(reads)
  })

  it('leaves a run that ended alone, and ignores a reader that is not the current one', async () => {
    const h = harness({ left: 1 })
    const a = reader()
    h.readers.attach(a.r)
    await h.readers.detach(reader().r)
    h.run.ended = true
    await h.readers.detach(a.r)
    await vi.advanceTimersByTimeAsync(5000)
    expect(h.run).toMatchObject({ cuts: 0, reads: 0 })
  })
})
