/**
 * What an image root may make a reader allocate, checked from the root alone before any leaf
 * is fetched (docs/FORMAT.md, "Image root"): every leaf distinct, and each level's prefix no
 * larger than a lossless codestream of that level's pixels can be.
 */
import type { CID } from 'multiformats/cid'
import { cidKey } from '../util/cid-key.js'

/**
 * Coded bytes allowed per raw sample byte. Lossless HTJ2K of incompressible content (uniform
 * noise at every bit depth from 1 to 16, 1 and 3 components, 1x1 to 1000x700, 0 to 10
 * decompositions) measured at most 1.21x the raw bytes of the level; real images are below 1.
 * 2 leaves a margin of 65% over that worst case.
 */
export const CODED_PER_RAW_BYTE = 2
/**
 * Fixed cost allowed per level: the tile-part header (SOT + SOD, 14 bytes) and packet headers
 * per component. Measured at most 23 bytes per level and component beyond 2x raw (tiny images,
 * where headers dominate); 64 + 16 per component leaves a wide margin.
 */
export const LEVEL_OVERHEAD_BYTES = 64
export const COMPONENT_OVERHEAD_BYTES = 16

/** Bytes per decoded sample for a bit depth (the codec's: 1 up to 8 bits, then whole bytes). */
export function sampleBytes (bitDepth: number): number {
  return Math.ceil(bitDepth / 8)
}

/**
 * Most bytes a lossless codestream may hold after its main header up to the end of `level`
 * (0 = coarsest), given that level's size, the components and the bit depth.
 */
export function maxLevelBody (level: number, width: number, height: number, components: number, bitDepth: number): number {
  const raw = width * height * components * sampleBytes(bitDepth)
  return CODED_PER_RAW_BYTE * raw + (level + 1) * (LEVEL_OVERHEAD_BYTES + COMPONENT_OVERHEAD_BYTES * components)
}

/**
 * Why a level's prefix end is larger than its pixels allow, or undefined when it is not.
 * `end` counts the main header (`mainHeader` bytes) and levels 0..level, EOC excluded.
 */
export function oversizedLevel (level: { level: number, width: number, height: number, end: number }, mainHeader: number, components: number, bitDepth: number): string | undefined {
  const body = level.end - mainHeader
  const max = maxLevelBody(level.level, level.width, level.height, components, bitDepth)
  if (body <= max) return undefined
  return `level ${level.level} (${level.width}x${level.height}x${components}, ${bitDepth} bits) holds ${body} bytes after the main header, more than the ${max} a lossless codestream of those pixels can need (${CODED_PER_RAW_BYTE}x the raw samples plus headers)`
}

/** The index of the first leaf that repeats an earlier one, and that earlier index; undefined if all differ. */
export function repeatedLeaf (leaves: Array<{ cid: CID }>): { index: number, first: number } | undefined {
  const seen = new Map<string, number>()
  for (const [i, leaf] of leaves.entries()) {
    const key = cidKey(leaf.cid)
    const first = seen.get(key)
    if (first !== undefined) return { index: i, first }
    seen.set(key, i)
  }
  return undefined
}
