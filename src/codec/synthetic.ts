/**
 * Deterministic synthetic images for tests and benchmarks: a smooth pattern
 * plus noise (compresses like anatomy, not like a flat field), covering the
 * full declared sample range (first sample = minimum, last = maximum).
 */
import type { RasterImage, SampleArray } from '../types.js'

/** Deterministic pseudo-random generator (xorshift32), values in [0, 1). */
function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x / 2 ** 32
  }
}

/** A width x height image of `bits`-bit samples; the same arguments always give the same pixels. */
export function synthesizeImage (width: number, height: number, bits: number, signed: boolean, components = 1, seed = 1): RasterImage {
  const r = rng(seed)
  const min = signed ? -(2 ** (bits - 1)) : 0
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1
  const n = width * height * components
  const data: SampleArray = bits <= 8 ? (signed ? new Int8Array(n) : new Uint8Array(n)) : (signed ? new Int16Array(n) : new Uint16Array(n))
  for (let y = 0; y < height; y++) {
    const cy = Math.cos(y / 23)
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < components; c++) {
        const smooth = 0.5 + 0.35 * Math.sin(x / 17 + c) * cy
        const v = Math.round(min + (max - min) * smooth + (r() - 0.5) * (max - min) * 0.1)
        data[(y * width + x) * components + c] = Math.min(max, Math.max(min, v))
      }
    }
  }
  if (n > 0) { data[0] = min; data[n - 1] = max }
  return { width, height, components, bitsStored: bits, signed, data }
}
