import { describe, expect, it } from 'vitest'
import { addressKey, createAuthThrottle } from './throttle'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => { t += ms } }
}

describe('createAuthThrottle', () => {
  it('refuses an address after its failures, until the window ends', () => {
    const c = clock()
    const throttle = createAuthThrottle({ perAddress: 3, global: 100, windowMs: 60_000, now: c.now })
    for (let i = 1; i <= 3; i++) {
      expect(throttle.refusal('10.0.0.1')).toBeNull()
      expect(throttle.fail('10.0.0.1')).toBe(i)
    }
    expect(throttle.refusal('10.0.0.1')).toEqual({ retryAfterSeconds: 60, scope: 'address' })
    expect(throttle.refusal('10.0.0.2')).toBeNull()
    c.advance(59_500)
    expect(throttle.refusal('10.0.0.1')).toEqual({ retryAfterSeconds: 1, scope: 'address' })
    c.advance(500)
    expect(throttle.refusal('10.0.0.1')).toBeNull()
    expect(throttle.fail('10.0.0.1')).toBe(1)
  })

  it('refuses everyone once all addresses together failed too often', () => {
    const c = clock()
    const throttle = createAuthThrottle({ perAddress: 10, global: 5, windowMs: 60_000, now: c.now })
    for (let i = 0; i < 5; i++) throttle.fail(`10.0.1.${i}`)
    expect(throttle.refusal('10.0.2.1')).toEqual({ retryAfterSeconds: 60, scope: 'global' })
    c.advance(30_000)
    expect(throttle.refusal('10.0.2.1')?.retryAfterSeconds).toBe(30)
    c.advance(30_000)
    expect(throttle.refusal('10.0.2.1')).toBeNull()
  })

  it('stays bounded in memory: past the cap, new addresses count globally only', () => {
    const c = clock()
    const throttle = createAuthThrottle({ perAddress: 1, global: 1_000, windowMs: 60_000, maxAddresses: 2, now: c.now })
    throttle.fail('a')
    throttle.fail('b')
    expect(throttle.fail('c')).toBe(0)
    expect(throttle.refusal('c')).toBeNull()
    expect(throttle.refusal('a')?.scope).toBe('address')
    c.advance(60_000)
    expect(throttle.fail('c')).toBe(1) // expired windows made room
  })
})

describe('addressKey', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7')
    expect(addressKey('2001:db8:0:12:aaaa::1')).toBe('2001:db8:0:12::/64')
    expect(addressKey('2001:0db8:0000:0012:bbbb:cccc:dddd:eeee')).toBe('2001:db8:0:12::/64')
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressKey('')).toBe('unknown')
  })
})
