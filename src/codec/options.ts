/**
 * Public option types and their checks.
 */
import { CodecError } from '../errors.js'
import { MAX_DECOMPOSITIONS, MIN_DECOMPOSITIONS } from './decompositions.js'

export interface EncodeOptions {
  /** Wavelet decompositions (1..32; 0 is refused, it is not lossless in this build). Default: defaultDecompositions(width, height). */
  decompositions?: number
}

export interface DecodeOptions {
  /** Number of finest resolution levels discarded; 0 (default) = full size. */
  reduce?: number
}

/** Throws CodecError unless `d` is an integer in 1..32. */
export function checkDecompositions (d: number): void {
  if (d === 0) {
    throw new CodecError(`decompositions 0 is refused: OpenJPH 0.31 encodes it lossily (samples at the bottom of their range decode as the middle value); use ${MIN_DECOMPOSITIONS}..${MAX_DECOMPOSITIONS}`)
  }
  if (!Number.isInteger(d) || d < MIN_DECOMPOSITIONS || d > MAX_DECOMPOSITIONS) {
    throw new CodecError(`decompositions must be an integer in ${MIN_DECOMPOSITIONS}..${MAX_DECOMPOSITIONS}, got ${d}`)
  }
}
