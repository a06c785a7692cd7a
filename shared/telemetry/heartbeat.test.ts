import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { createHeartbeat } from './heartbeat.ts'

beforeEach(() => { vi.useFakeTimers() })
afterEach(() => { vi.useRealTimers() })

function setup(beat = async () => {}) {
  const state = { active: true, beats: [] as number[] }
  const errors: unknown[] = []
  const hb = createHeartbeat({
    everyMs: 1_000,
    active: () => state.active,
    beat: async () => { state.beats.push(Date.now()); await beat() },
    onError: (err) => errors.push(err),
  })
  return { hb, state, errors }
}

it('beats every interval while something is on record, and not before the first interval', async () => {
  const start = Date.now()
  const { hb, state } = setup()
  hb.poke()
  hb.poke() // a second request going on record does not start a second clock
  await vi.advanceTimersByTimeAsync(999)
  expect(state.beats).toEqual([])
  await vi.advanceTimersByTimeAsync(2_001)
  expect(state.beats.map((t) => t - start)).toEqual([1_000, 2_000, 3_000])
})

it('stops at the first tick with nothing on record, and a poke starts it again', async () => {
  const start = Date.now()
  const { hb, state } = setup()
  hb.poke()
  await vi.advanceTimersByTimeAsync(1_000)
  state.active = false
  await vi.advanceTimersByTimeAsync(5_000)
  expect(state.beats.map((t) => t - start)).toEqual([1_000])
  expect(hb.running).toBe(false)
  state.active = true
  hb.poke()
  await vi.advanceTimersByTimeAsync(1_000)
  expect(state.beats.map((t) => t - start)).toEqual([1_000, 7_000])
})

it('keeps beating after a failed beat, and never runs two beats at once', async () => {
  let release!: () => void
  let calls = 0
  const { hb, state, errors } = setup(async () => {
    calls++
    if (calls === 1) throw new Error('database away')
    if (calls === 2) await new Promise<void>((r) => { release = r })
  })
  const start = Date.now()
  hb.poke()
  await vi.advanceTimersByTimeAsync(2_000) // first fails, second hangs
  await vi.advanceTimersByTimeAsync(2_000) // ticks while the second hangs: skipped
  expect(errors).toEqual([new Error('database away')])
  expect(state.beats.map((t) => t - start)).toEqual([1_000, 2_000])
  release()
  await vi.advanceTimersByTimeAsync(1_000)
  expect(state.beats.map((t) => t - start)).toEqual([1_000, 2_000, 5_000])
  hb.stop()
  await vi.advanceTimersByTimeAsync(5_000)
  expect(state.beats).toHaveLength(3)
})
