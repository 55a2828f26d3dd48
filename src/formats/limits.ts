/**
 * Size limits shared by every reader and writer: a header may claim anything,
 * so declared sizes are checked here before a single byte is allocated.
 */
import { MAX_DECODED_BYTES } from '../codec/validate.js'
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
 * Largest raster one image, frame or slice may decode to, in bytes (width x height x components
 * x 1 or 2 bytes per sample): the codec's limit (128 MiB), so an input it would refuse to encode
 * is refused from its header, before its pixels are inflated or decoded.
 */
export const MAX_FRAME_BYTES = MAX_DECODED_BYTES

/**
 * Largest a compressed DICOM file may inflate to, a deflated data set or a whole `.dcm.gz` (either
 * is held whole, like any DICOM file): inflation stops there, so a small file that would inflate to
 * gigabytes costs at most this.
 */
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024

/**
 * Throws UnsupportedInputError when one image, frame or slice of `width` x `height` x
 * `components` samples of `bytesPerSample` bytes decodes to more than MAX_FRAME_BYTES.
 */
export function checkFrame (label: string, width: number, height: number, components: number, bytesPerSample: number, what: string): void {
  const bytes = width * height * components * bytesPerSample
  if (bytes > MAX_FRAME_BYTES) {
    throw new UnsupportedInputError(`${label}: ${what}: one image decodes to ${bytes} bytes, more than the ${MAX_FRAME_BYTES}-byte (128 MiB) limit of the codec (e.g. 8192x8192 16-bit); refused before decoding. Split or downsample it first`)
  }
}
