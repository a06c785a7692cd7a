import { describe, expect, it } from 'vitest'
import { retryStore } from './retry-store.ts'

function clock() {
  let t = 0
  const slept: number[] = []
  return { now: () => t, sleep: async (ms: number) => { slept.push(ms); t += ms }, slept }
}
const failing = (times: number, err: unknown) => {
  let calls = 0
  return { write: async () => { if (++calls <= times) throw err; return `id-${calls}` }, calls: () => calls }
}
const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })

describe('retryStore', () => {
  it('retries through an outage with doubling delays and returns the write that went through', async () => {
    const c = clock()
    const w = failing(6, down)
    const retries: number[] = []
    expect(await retryStore(w.write, { withinMs: 30_000, ...c, onRetry: (_e, n) => retries.push(n) })).toBe('id-7')
    expect(c.slept).toEqual([100, 200, 400, 800, 1_600, 2_000])
    expect(retries).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('gives up with the last error once the window is spent', async () => {
    const c = clock()
    const w = failing(100, down)
    await expect(retryStore(w.write, { withinMs: 5_000, ...c })).rejects.toBe(down)
    expect(c.now()).toBeLessThanOrEqual(5_000)
    expect(w.calls()).toBe(6) // at 0, 100, 300, 700, 1500, 3100 ms; the next would start after 5 s
  })

  it('does not retry what a retry cannot fix (bad data, a constraint, a missing privilege)', async () => {
    for (const code of ['22P02', '23505', '42501']) {
      const w = failing(1, Object.assign(new Error(code), { code }))
      await expect(retryStore(w.write, { withinMs: 30_000, ...clock() })).rejects.toMatchObject({ code })
      expect(w.calls()).toBe(1)
    }
  })

  it('with no window, tries once', async () => {
    const w = failing(1, down)
    await expect(retryStore(w.write, { withinMs: 0, ...clock() })).rejects.toBe(down)
    expect(w.calls()).toBe(1)
  })
})
