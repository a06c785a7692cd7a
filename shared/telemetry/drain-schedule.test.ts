import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createDrainSchedule, toDrainDelay, toRetryDelay, type DrainScheduleOptions } from './drain-schedule.ts'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

/** A queue of `n` rows that a drain takes whole, failing while `down`. */
function harness(o: Partial<DrainScheduleOptions> = {}) {
  const state = { queued: 0, full: false, down: false, runs: 0, failures: 0 }
  const waits: Promise<unknown>[] = []
  const s = createDrainSchedule({
    flushIntervalMs: 100, retryMinMs: 200, retryMaxMs: 1000,
    async run() { state.runs++; if (state.down) throw new Error('down'); state.queued = 0; state.full = false },
    full: () => state.full,
    empty: () => state.queued === 0,
    waiting: () => state.queued,
    onFailure: () => { state.failures++ },
    waitUntil: (w) => waits.push(w),
    ...o,
  })
  const push = (n = 1) => { state.queued += n; s.queued(); s.schedule() }
  /** A row is queued while the database is down; whether idle() has resolved since. */
  const pushWhileDown = () => {
    state.down = true
    push()
    const idle = { resolved: false }
    void s.idle().then(() => { idle.resolved = true })
    return idle
  }
  return { s, state, push, pushWhileDown, waits }
}

describe('drain delays', () => {
  it('waits out the interval from the oldest row, not at all for a whole batch, never under the retry delay', () => {
    expect(toDrainDelay({ full: false, ageMs: 30, flushIntervalMs: 100, retryDelayMs: 0 })).toBe(70)
    expect(toDrainDelay({ full: true, ageMs: 0, flushIntervalMs: 100, retryDelayMs: 0 })).toBe(0)
    expect(toDrainDelay({ full: true, ageMs: 0, flushIntervalMs: 100, retryDelayMs: 400 })).toBe(400)
    expect(toDrainDelay({ full: false, ageMs: 500, flushIntervalMs: 100, retryDelayMs: 0 })).toBe(0)
  })

  it('doubles the retry delay within its bounds', () => {
    expect([0, 200, 400, 800].map((d) => toRetryDelay(d, 200, 1000))).toEqual([200, 400, 800, 1000])
  })
})

describe('drain schedule', () => {
  it('drains once the oldest row is flushIntervalMs old, rows pushed meanwhile included', async () => {
    const h = harness()
    h.push()
    await vi.advanceTimersByTimeAsync(60)
    h.push()
    await vi.advanceTimersByTimeAsync(39)
    expect(h.state.runs).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.state.runs).toBe(1)
    expect(h.state.queued).toBe(0)
  })

  it('drains at once when a whole batch waits', async () => {
    const h = harness()
    h.push()
    h.state.full = true
    h.s.schedule()
    await vi.advanceTimersByTimeAsync(0)
    expect(h.state.runs).toBe(1)
  })

  it('retries a failed drain with backoff, holding the isolate, and lets idle waiters go once written', async () => {
    const h = harness()
    const idle = h.pushWhileDown()
    await vi.advanceTimersByTimeAsync(100)
    expect(h.state).toMatchObject({ runs: 1, failures: 1 })
    expect(h.waits).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(199)
    expect(h.state.runs).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.state).toMatchObject({ runs: 2, failures: 2 })
    await vi.advanceTimersByTimeAsync(399)
    expect(h.state.runs).toBe(2)
    h.state.down = false
    await vi.advanceTimersByTimeAsync(1)
    expect(h.state.runs).toBe(3)
    expect(idle.resolved).toBe(true)
  })

  it('flush drains now, without waiting for the interval', async () => {
    const h = harness()
    h.push()
    await h.s.flush()
    expect(h.state).toMatchObject({ runs: 1, queued: 0 })
    await expect(h.s.idle()).resolves.toBeUndefined()
  })

  it('after close, schedules nothing and idle resolves at once', async () => {
    const h = harness()
    const idle = h.pushWhileDown()
    h.s.close()
    await vi.advanceTimersByTimeAsync(0)
    expect(idle.resolved).toBe(true)
    h.s.schedule()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(h.state.runs).toBe(1) // the timer set before close, none after
  })
})
