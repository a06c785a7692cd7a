// Tick labels of an axis stay distinct whatever its step (the concurrent-streams axis once read 0.1, 0.1, 0.2).
import { describe, expect, it } from 'vitest'
import { formatTick, stepDecimals, tickStep } from './ticks.ts'

const ticksOf = (step: number, n: number) => Array.from({ length: n }, (_, i) => ({ value: i * step }))

describe('formatTick', () => {
  it('gives every tick of an axis its own label', () => {
    for (const step of [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 0.002, 250]) {
      const ticks = ticksOf(step, 6)
      const labels = ticks.map((t) => formatTick(t.value, tickStep(ticks)))
      expect(new Set(labels).size, `step ${step}: ${labels.join(', ')}`).toBe(labels.length)
    }
  })

  it('writes a step with the decimals it has, and a lone value by its size', () => {
    expect(stepDecimals(0.05)).toBe(2)
    expect(stepDecimals(0.1)).toBe(1)
    expect(stepDecimals(2)).toBe(0)
    expect(formatTick(0.15, 0.05)).toBe('0.15')
    expect(formatTick(0.2, 0.1)).toBe('0.2')
    expect(formatTick(12.3)).toBe('12')
    expect(formatTick(0.034)).toBe('0.03')
    expect(tickStep([{ value: 1 }])).toBeUndefined()
  })
})
