/**
 * Sizes on the JPEG 2000 reference grid (ISO/IEC 15444-1 B.5): tiles and
 * resolution levels.
 */

/** JPEG 2000 allows at most 32 decomposition levels (so does OpenJPH). */
export const MAX_DECOMPOSITIONS = 32

/** ceil(a / 2^r) for non-negative integers below 2^53, without 32-bit overflow. */
export function ceilShift (a: number, r: number): number {
  return Math.ceil(a / 2 ** r)
}

/** Width or height of level `level` of `decompositions`: ceil(end / 2^r) - ceil(origin / 2^r), r = D - level. */
export function levelExtent (end: number, origin: number, decompositions: number, level: number): number {
  const r = decompositions - level
  return ceilShift(end, r) - ceilShift(origin, r)
}

/** Tiles across and down: the image area (Xsiz, Ysiz) cut by tiles of xt x yt from the tile origin. Tile sizes must be >= 1. */
export function tileGrid (siz: { xsiz: number, ysiz: number, xt: number, yt: number, xt0: number, yt0: number }): { x: number, y: number } {
  return { x: Math.ceil((siz.xsiz - siz.xt0) / siz.xt), y: Math.ceil((siz.ysiz - siz.yt0) / siz.yt) }
}
