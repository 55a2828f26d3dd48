/**
 * Size limits shared by every reader and writer: a header may claim anything,
 * so declared sizes are checked here before a single byte is allocated.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'

/** Largest accepted size of one image side (pixels / voxels). */
export const MAX_SIDE = 65535
/** Largest accepted pixel payload of one input, in bytes (2 GiB). */
export const MAX_BYTES = 2 ** 31

/**
 * Throws unless every dimension is an integer in 1..MAX_SIDE and the payload
 * (product of dims times bytesPerSample) stays under MAX_BYTES. Returns that payload size.
 * @param label file name used in the message
 * @param what short description of the image, e.g. "512x512x300 int16"
 */
export function checkDimensions (label: string, dims: number[], bytesPerSample: number, what: string): number {
  for (const d of dims) {
    if (!Number.isInteger(d) || d <= 0) {
      throw new InvalidInputError(`${label}: invalid dimensions ${what}: every side must be a positive integer`)
    }
    if (d > MAX_SIDE) {
      throw new UnsupportedInputError(`${label}: dimensions ${what} exceed the limit of ${MAX_SIDE} per side`)
    }
  }
  const bytes = dims.reduce((a, b) => a * b, 1) * bytesPerSample
  if (bytes > MAX_BYTES) {
    throw new UnsupportedInputError(`${label}: image ${what} needs ${bytes} bytes, more than the limit of ${MAX_BYTES}`)
  }
  return bytes
}

/**
 * Largest accepted size of a gzip-compressed input once inflated (.dcm.gz): the pixel
 * payload limit plus room for headers (an enhanced multi-frame header grows with its
 * frames). Inflating stops as soon as this is passed, so a gzip bomb costs nothing.
 */
export const MAX_INFLATED_BYTES = MAX_BYTES + 2 ** 28
