import { describe, expect, it } from 'vitest'
import { HIST_BOUNDS, histAdd, histQuantile } from './hist'

describe('histograms', () => {
  it('has the 67 bounds of the rollups', () => {
    expect(HIST_BOUNDS).toHaveLength(67)
    expect(HIST_BOUNDS[0]).toBe(1)
    expect(HIST_BOUNDS[65]).toBeCloseTo(1.25 ** 65)
    expect(HIST_BOUNDS[66]).toBe(Infinity)
  })

  it('adds element-wise, treating null as empty', () => {
    expect(histAdd([1, 2], [3, 4, 5])).toEqual([4, 6, 5])
    expect(histAdd(null, [1])).toEqual([1])
    expect(histAdd(null, null)).toBeNull()
  })

  it('interpolates inside the bucket and is null when empty', () => {
    const h = new Array(67).fill(0)
    h[10] = 10 // (1.25^9, 1.25^10]
    expect(histQuantile(h, 0.5)).toBeCloseTo(1.25 ** 9 + (1.25 ** 10 - 1.25 ** 9) * 0.5)
    expect(histQuantile(new Array(67).fill(0), 0.5)).toBeNull()
    const open = new Array(67).fill(0)
    open[66] = 1
    expect(histQuantile(open, 0.99)).toBeCloseTo(1.25 ** 65)
  })
})
