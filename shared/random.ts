/**
 * mulberry32: a seeded uniform [0, 1) source — tiny, fast, and enough to make a run
 * (simulated answers, injected faults, cut points) reproducible from its seed.
 */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
