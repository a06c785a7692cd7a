import { describe, expect, it } from 'vitest'
import { parseInstant, parseRange, previousWindow, rangeParams, stepFor } from './range'

const now = new Date('2026-11-25T12:34:56Z')
const opts = { fallback: '1h', maxDays: 30 } as const
const parse = (q: string) => parseRange(new URLSearchParams(q), now, opts)

describe('parseRange', () => {
  it('reads presets ending now, with a bucket that suits their length', () => {
    const cases: [string, number, number][] = [
      ['15m', 15 * 60_000, 60_000], ['1h', 3600_000, 60_000], ['6h', 6 * 3600_000, 5 * 60_000],
      ['24h', 86_400_000, 15 * 60_000], ['7d', 7 * 86_400_000, 3600_000], ['30d', 30 * 86_400_000, 6 * 3600_000],
    ]
    for (const [preset, length, step] of cases) {
      const r = parse(`range=${preset}`)
      if (!r.ok) throw new Error(r.message)
      expect(r.value.to).toEqual(now)
      expect(r.value.to.getTime() - r.value.from.getTime()).toBe(length)
      expect(r.value.step_ms).toBe(step)
      expect(rangeParams(r.value)).toEqual({ range: preset })
    }
  })

  it('falls back to the page default', () => {
    const r = parse('')
    expect(r.ok && r.value.preset).toBe('1h')
  })

  it('reads custom ranges as UTC unless a zone is given, and round-trips them', () => {
    const r = parse('range=custom&from=2026-11-20T10:00&to=2026-11-21T10:00')
    if (!r.ok) throw new Error(r.message)
    expect(r.value.from.toISOString()).toBe('2026-11-20T10:00:00.000Z')
    expect(rangeParams(r.value)).toEqual({ range: 'custom', from: '2026-11-20T10:00', to: '2026-11-21T10:00' })
    const zoned = parse('range=custom&from=2026-11-20T10:00%2B02:00&to=2026-11-20T12:00Z')
    expect(zoned.ok && zoned.value.from.toISOString()).toBe('2026-11-20T08:00:00.000Z')
  })

  it('refuses what it cannot honour, saying why', () => {
    for (const [q, words] of [
      ['range=2h', 'range must be one of'],
      ['range=custom&from=yesterday', 'from must be'],
      ['range=custom&from=2026-11-21T00:00&to=2026-11-20T00:00', 'before'],
      ['range=custom&from=2026-01-01T00:00&to=2026-11-20T00:00', 'at most 30 days'],
    ] as const) {
      const r = parse(q)
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.message).toContain(words)
    }
    expect(parseRange(new URLSearchParams('range=30d'), now, { fallback: '1h', maxDays: 7 }).ok).toBe(false)
  })
})

describe('helpers', () => {
  it('parseInstant accepts dates, minutes and zones only', () => {
    expect(parseInstant('2026-11-25')?.toISOString()).toBe('2026-11-25T00:00:00.000Z')
    expect(parseInstant('2026-11-25 08:30')?.toISOString()).toBe('2026-11-25T08:30:00.000Z')
    expect(parseInstant('25/11/2026')).toBeNull()
    expect(parseInstant('2026-13-45T99:99')).toBeNull()
  })

  it('previousWindow is the same length just before', () => {
    const w = { from: new Date('2026-11-25T10:00Z'), to: new Date('2026-11-25T12:00Z') }
    expect(previousWindow(w)).toEqual({ from: new Date('2026-11-25T08:00Z'), to: w.from })
  })

  it('stepFor never goes below the minimum or past a day', () => {
    expect(stepFor(3600_000, 200, 15 * 60_000)).toBe(15 * 60_000)
    expect(stepFor(400 * 86_400_000)).toBe(86_400_000)
  })
})
