import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { createDropReporter } from './drop-report.ts'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

type Report = { dropped: number; dropped_since_last: number }

function harness(onDrops?: (r: Report) => void) {
  const stats = { dropped: 0 }
  const reports: Report[] = []
  const reporter = createDropReporter({ onDrops: onDrops ?? ((r) => { reports.push(r) }), everyMs: 1000, snapshot: () => ({ ...stats }) })
  const drop = (n: number) => { stats.dropped += n; reporter.report() }
  return { reporter, reports, drop }
}

it('reports the first drops at once, then at most once per window, with the drops since the last report', async () => {
  const h = harness()
  h.drop(3)
  expect(h.reports).toEqual([{ dropped: 3, dropped_since_last: 3 }])
  h.drop(1)
  h.drop(2)
  expect(h.reports).toHaveLength(1)
  await vi.advanceTimersByTimeAsync(999)
  expect(h.reports).toHaveLength(1)
  await vi.advanceTimersByTimeAsync(1)
  expect(h.reports.at(-1)).toEqual({ dropped: 6, dropped_since_last: 3 })
})

it('says nothing when there were no new drops, and nothing after stop', async () => {
  const h = harness()
  h.drop(1)
  h.reporter.report()
  await vi.advanceTimersByTimeAsync(5000)
  expect(h.reports).toHaveLength(1)
  h.drop(1) // window over: at once
  expect(h.reports).toHaveLength(2)
  h.drop(1)
  h.reporter.stop()
  await vi.advanceTimersByTimeAsync(5000)
  expect(h.reports).toHaveLength(2)
})

it('survives a reporter that throws', () => {
  const h = harness(() => { throw new Error('reporter broke') })
  expect(() => h.drop(1)).not.toThrow()
})

it('does nothing without onDrops', () => {
  const snapshot = vi.fn(() => ({ dropped: 1 }))
  createDropReporter({ everyMs: 1000, snapshot }).report()
  expect(snapshot).not.toHaveBeenCalled()
})
