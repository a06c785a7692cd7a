import { expect, it } from 'vitest'
import { createCoalescedFlush } from './coalesce.ts'

it('runs one flush at a time and lets every caller during it share the next one', async () => {
  const runs: Array<() => void> = []
  const flush = createCoalescedFlush(() => new Promise<void>((resolve) => runs.push(resolve)))
  const first = flush()
  const waiting = Array.from({ length: 50 }, () => flush())
  expect(runs).toHaveLength(1)
  runs[0]()
  await first
  await Promise.resolve()
  expect(runs).toHaveLength(2) // the 50 callers share one more run
  runs[1]()
  await Promise.all(waiting)
  expect(runs).toHaveLength(2)
  const later = flush()
  expect(runs).toHaveLength(3)
  runs[2]()
  await later
})

it('a failed run rejects its callers but does not stop the next one', async () => {
  let n = 0
  const flush = createCoalescedFlush(async () => { if (n++ === 0) throw new Error('boom') })
  await expect(flush()).rejects.toThrow('boom')
  await expect(flush()).resolves.toBeUndefined()
})
