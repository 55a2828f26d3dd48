/**
 * Tile-parts (ISO/IEC 15444-1 A.4.2): the SOT segment that opens each one, and
 * the walk of a tile-part header up to SOD. Which tile-parts a consumer accepts
 * (one per resolution for the chunker; anything OpenJPH walks the same way for
 * the codec's check) is the consumer's rule.
 */
import { SOD } from './markers.js'
import type { ByteReader } from './reader.js'
import { walkSegments, type Segment, type WalkRules } from './segments.js'

/** Lsot of every SOT segment. */
export const SOT_LENGTH = 10
/** Bytes of SOT (marker + segment) that open a tile-part; SOD follows the tile-part header. */
export const SOT_BYTES = 2 + SOT_LENGTH

/** Which tile an SOT opens a part of, and how long that part is. */
export interface Sot {
  /** Offset of the SOT marker: where the tile-part starts. */
  offset: number
  /** Isot: the tile's index. */
  tile: number
  /** Psot: the tile-part's length from its SOT marker, as coded (0: up to EOC, last tile-part only). */
  length: number
}

/** Where a tile-part stands among its tile's parts. */
export interface SotPart {
  /** TPsot: the tile-part's index within its tile. */
  index: number
  /** TNsot: the tile's number of tile-parts (0: not given here). */
  count: number
}

/**
 * Isot and Psot of the SOT whose marker is at `at` (the caller has read the
 * marker). Lsot is checked first: `badLength` refuses any other than 10.
 * TPsot and TNsot are read apart (readSotPart), so that a consumer that does
 * not use them refuses an SOT cut short by its Psot, as it would any other.
 */
export function readSot (r: ByteReader, at: number, badLength: (lsot: number) => never): Sot {
  const lsot = r.u16(at + 2, 'Lsot')
  if (lsot !== SOT_LENGTH) badLength(lsot)
  return { offset: at, tile: r.u16(at + 4, 'Isot'), length: r.u32(at + 6, 'Psot') }
}

/** TPsot and TNsot of `sot`. */
export function readSotPart (r: ByteReader, sot: Sot): SotPart {
  return { index: r.u8(sot.offset + 10, 'TPsot'), count: r.u8(sot.offset + 11, 'TNsot') }
}

/**
 * Walks the header of the tile-part opened by `sot`, whose bytes end at
 * `end`, up to SOD: every segment and SOD itself must lie inside the
 * tile-part. Returns the offset of SOD.
 */
export function walkTilePartHeader (r: ByteReader, sot: Sot, end: number, rules: Omit<WalkRules, 'stop' | 'limit' | 'what'>, visit: (segment: Segment) => void): number {
  return walkSegments(r, sot.offset + SOT_BYTES, { ...rules, stop: SOD, limit: end - 2, what: 'tile-part header marker' }, visit)
}
