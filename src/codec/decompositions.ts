/**
 * How many wavelet decompositions an image gets.
 */
import { MAX_DECOMPOSITIONS, ceilShift } from '../j2k/index.js'

/** Largest decomposition count (JPEG 2000's, which OpenJPH accepts). */
export { MAX_DECOMPOSITIONS }

/**
 * Smallest decomposition count used. OpenJPH 0.31 (this WASM build) encodes
 * D = 0 with one magnitude bit too few in its QCD segment, so a sample at the
 * very bottom of its range (0 for unsigned, -2^(b-1) for signed) decodes as
 * the middle value — with OpenJPEG too. Measured in test/codec/codec.test.ts.
 */
export const MIN_DECOMPOSITIONS = 1

/** Largest coarsest-level side allowed by DICOM HTJ2K Lossless RPCL (.202). */
export const MAX_COARSEST_SIDE = 64

/**
 * Smallest D >= 1 such that ceil(max(w,h) / 2^D) <= 64 (DICOM HTJ2K RPCL .202
 * requires the coarsest level to be at most 64 px). D is at least 1, not 0,
 * because D = 0 is not lossless in this OpenJPH build (see MIN_DECOMPOSITIONS).
 */
export function defaultDecompositions (width: number, height: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`defaultDecompositions: width and height must be positive integers, got ${width}x${height}`)
  }
  let side = Math.ceil(Math.max(width, height) / 2)
  let d = MIN_DECOMPOSITIONS
  while (side > MAX_COARSEST_SIDE) {
    side = Math.ceil(side / 2)
    d++
  }
  return d
}

/** Size of one side after discarding `levels` finest levels: ceil(side / 2^levels). */
export function reducedSize (side: number, levels: number): number {
  return ceilShift(side, levels)
}
