import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { backoffDelay, NON_RETRYABLE_STATUSES, parseRetryAfter, retryReasonOf, sleep } from './backoff.ts'

describe('backoffDelay (full jitter)', () => {
  const o = { baseDelayMs: 500, maxDelayMs: 10_000 }

  it('is random(0, min(cap, base·2^attempt))', () => {
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(0)
    expect(backoffDelay(0, { ...o, random: () => 0.5 })).toBe(250)
    expect(backoffDelay(1, { ...o, random: () => 0.5 })).toBe(500)
    expect(backoffDelay(3, { ...o, random: () => 0.5 })).toBe(2000)
    // 500·2^5 = 16 000 is over the cap: the window stops growing at 10 000.
    expect(backoffDelay(5, { ...o, random: () => 0.5 })).toBe(5000)
    expect(backoffDelay(40, { ...o, random: () => 0.999 })).toBe(9990)
  })

  it('stays inside [0, ceiling) for every attempt and random value', () => {
    fc.assert(fc.property(fc.nat(64), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const d = backoffDelay(attempt, { ...o, random: () => r })
      const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt)
      return Number.isInteger(d) && d >= 0 && d < ceiling
    }))
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z')

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter('7', now)).toBe(7000)
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000)
  })

  it('reads an HTTP-date (IMF-fixdate and the obsolete forms), never negative', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Saturday, 01-Mar-25 12:00:05 GMT', now)).toBe(5_000)
    expect(parseRetryAfter('Sat Mar  1 12:01:00 2025', now)).toBe(60_000) // asctime: GMT, whatever the local zone
    expect(parseRetryAfter('Fri, 28 Feb 2025 12:00:00 GMT', now)).toBe(0)
  })

  it('is null for anything else, so the caller uses its own backoff', () => {
    for (const v of [null, undefined, '', 'soon', '-1', '1.5', '5s', 'Mon, garbage']) expect(parseRetryAfter(v, now)).toBe(null)
  })
})

describe('retryReasonOf', () => {
  it('retries 408, 429 and every 5xx', () => {
    expect(retryReasonOf(408)).toBe('status_408')
    expect(retryReasonOf(429)).toBe('status_429')
    for (const s of [500, 502, 503, 504, 599]) expect(retryReasonOf(s)).toBe('status_5xx')
  })

  it('never retries a 4xx that the same request cannot turn into a success', () => {
    for (const s of [400, 401, 403, 404, 409, 413, 415, 422]) {
      expect(NON_RETRYABLE_STATUSES.has(s)).toBe(true)
      expect(retryReasonOf(s)).toBe(null)
    }
    expect(retryReasonOf(200)).toBe(null)
  })
})

describe('sleep', () => {
  it('rejects with the signal reason when aborted', async () => {
    const c = new AbortController()
    const p = sleep(60_000, c.signal)
    c.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
  })
})
