// Failed operator sign-ins (login form and bearer header), counted per client address and
// in total over a fixed window. Once either count is reached, every attempt from that
// address (or every attempt at all) is refused with 429 until the window ends — a right
// token included, or guessing would go on at the same rate. This is one process's count, the
// fallback while the database (signin-failures.ts, the count every process shares) cannot be asked.

export interface ThrottleOptions {
  /** Failures one address may make per window. */
  perAddress: number
  /** Failures all addresses together may make per window. */
  global: number
  windowMs: number
  /** Addresses tracked at once; beyond it a new address counts towards the global limit only. */
  maxAddresses?: number
  now?: () => number
}

export interface Refusal {
  retryAfterSeconds: number
  scope: 'address' | 'global'
}

interface Window {
  start: number
  failures: number
}

export interface AuthThrottle {
  /** Null when an attempt from `address` may go ahead. */
  refusal(address: string): Refusal | null
  /** Counts a failed attempt; returns the address's failures in the current window. */
  fail(address: string): number
}

export function createAuthThrottle(o: ThrottleOptions): AuthThrottle {
  const now = o.now ?? Date.now
  const maxAddresses = o.maxAddresses ?? 10_000
  const addresses = new Map<string, Window>()
  let total: Window = { start: now(), failures: 0 }

  const current = (w: Window | undefined, t: number) => (w && t - w.start < o.windowMs ? w : undefined)
  const retryAfter = (w: Window, t: number) => Math.max(1, Math.ceil((w.start + o.windowMs - t) / 1000))

  function prune(t: number) {
    for (const [key, w] of addresses) if (!current(w, t)) addresses.delete(key)
  }

  return {
    refusal(address) {
      const t = now()
      const own = current(addresses.get(address), t)
      if (own && own.failures >= o.perAddress) return { retryAfterSeconds: retryAfter(own, t), scope: 'address' }
      const all = current(total, t)
      if (all && all.failures >= o.global) return { retryAfterSeconds: retryAfter(all, t), scope: 'global' }
      return null
    },
    fail(address) {
      const t = now()
      total = current(total, t) ?? { start: t, failures: 0 }
      total.failures++
      let own = current(addresses.get(address), t)
      if (!own) {
        if (addresses.size >= maxAddresses) prune(t)
        if (addresses.size >= maxAddresses) return 0
        own = { start: t, failures: 0 }
        addresses.set(address, own)
      }
      return ++own.failures
    },
  }
}

/**
 * The key an address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its
 * /64, which one host usually holds whole.
 */
export function addressKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped) return mapped[1]!
  if (!a.includes(':')) return a || 'unknown'
  const [head = '', tail] = a.split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '') || '0').join(':')}::/64`
}
