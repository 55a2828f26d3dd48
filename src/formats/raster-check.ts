/**
 * Consistency check of a RasterImage handed to a writer.
 */
import { InvalidInputError } from '../errors.js'
import type { RasterImage } from '../types.js'
import { MAX_SIDE } from './limits.js'

/** Throws InvalidInputError when sizes, bit depth and the typed array do not agree. */
export function checkRaster (label: string, image: RasterImage): void {
  const { width, height, components, bitsStored, signed, data } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new InvalidInputError(`${label}: invalid image size ${width}x${height}`)
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > 16) throw new InvalidInputError(`${label}: invalid bitsStored ${bitsStored}`)
  if (data.length !== width * height * components) {
    throw new InvalidInputError(`${label}: ${width}x${height}x${components} image has ${data.length} samples`)
  }
  const expected = bitsStored <= 8
    ? (signed ? Int8Array : Uint8Array)
    : (signed ? Int16Array : Uint16Array)
  if (!(data instanceof expected)) {
    throw new InvalidInputError(`${label}: ${signed ? 'signed' : 'unsigned'} ${bitsStored}-bit image must hold a ${expected.name}, not a ${data.constructor.name}`)
  }
}
