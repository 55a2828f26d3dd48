/**
 * Seeded pseudo-random numbers (mulberry32): the example data must be
 * byte-identical on every run so its CIDs stay stable. Never Math.random.
 */

/** Returns a generator of uniform numbers in [0, 1) for the given 32-bit seed. */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Approximately normal deviates (sum of 4 uniforms, variance-corrected) from a uniform source. */
export function gaussian (uniform: () => number): () => number {
  return () => (uniform() + uniform() + uniform() + uniform() - 2) * Math.sqrt(3)
}
