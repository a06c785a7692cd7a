import { describe, expect, it } from 'vitest'
import { chartStep, rollupSource } from './rollups.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const windowOf = (ms: number) => ({ from: new Date(0), to: new Date(ms) })

describe('rollupSource', () => {
  it('reads the hourly rollup for buckets of an hour or more, the minute rollup below', () => {
    expect(rollupSource(HOUR, {})).toEqual({ table: 'telemetry.rollup_hour', unit_ms: HOUR })
    expect(rollupSource(24 * HOUR, { model: 'sim-1' }).table).toBe('telemetry.rollup_hour')
    expect(rollupSource(5 * MINUTE, {})).toEqual({ table: 'telemetry.rollup_minute', unit_ms: MINUTE })
  })

  it('reads the minute rollup for a user filter (the hourly one has no user_id)', () => {
    expect(rollupSource(24 * HOUR, { user: 'u-1' }).table).toBe('telemetry.rollup_minute')
  })
})

describe('chartStep', () => {
  it('widens buckets to an hour for windows of a day or more', () => {
    expect(chartStep(windowOf(24 * HOUR), 5 * MINUTE, {})).toBe(HOUR)
    expect(chartStep(windowOf(24 * HOUR - 1), 5 * MINUTE, {})).toBe(5 * MINUTE)
  })

  it('keeps the range\'s step when it is an hour or more, or a user filter is set', () => {
    expect(chartStep(windowOf(30 * 24 * HOUR), 6 * HOUR, {})).toBe(6 * HOUR)
    expect(chartStep(windowOf(7 * 24 * HOUR), 5 * MINUTE, { user: 'u-1' })).toBe(5 * MINUTE)
  })
})
