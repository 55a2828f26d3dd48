/**
 * Sample containers: how an image's samples are laid out for the WASM encoder,
 * and the helper that turns a decoded image back into its original sample type.
 *
 * The WASM build corrupts signed samples of 8 bits or less, so those are
 * encoded as signed 9-bit samples in a 16-bit container (same values; one more
 * bit of headroom costs almost nothing in the HT coder). Decoding such a
 * codestream therefore returns an Int16Array with bitsStored 9 and signed
 * true; `toSampleType(decoded, { bitsStored, signed })` restores the original.
 */
import { CodecError } from '../errors.js'
import type { RasterImage, SampleArray } from '../types.js'
import { sampleRange } from './validate.js'

/** What the encoder is told about the samples. */
export interface EncodeContainer {
  /** bitsPerSample declared to OpenJPH (9 for signed <= 8-bit input). */
  bitsPerSample: number
  signed: boolean
  /** Bytes per sample in the buffer handed to OpenJPH (1 or 2). */
  bytesPerSample: 1 | 2
}

/** Declared depth and container for an (already validated) image. */
export function encodeContainer (image: RasterImage): EncodeContainer {
  if (image.signed && image.bitsStored <= 8) {
    return { bitsPerSample: 9, signed: true, bytesPerSample: 2 }
  }
  return { bitsPerSample: image.bitsStored, signed: image.signed, bytesPerSample: image.bitsStored <= 8 ? 1 : 2 }
}

/** A new typed array of the natural type for `bits`/`signed` (8-bit arrays up to 8 bits, 16-bit above). */
export function allocateSamples (length: number, bits: number, signed: boolean): SampleArray {
  if (bits <= 8) return signed ? new Int8Array(length) : new Uint8Array(length)
  return signed ? new Int16Array(length) : new Uint16Array(length)
}

/**
 * Convert a decoded image to the sample type of the original: e.g. the
 * Int16Array / bitsStored 9 that a signed 8-bit image decodes to becomes an
 * Int8Array with bitsStored 8 again. Values are clamped to the original range:
 * at reduce > 0 the 5/3 LL band of a signed 8-bit image can overshoot it by a
 * little (decodeHTJ2K clamps only to the 9-bit container). Throws CodecError
 * when the decoded image cannot come from such an original (signedness
 * differs, or more bits than the original except the 9-bit signed container). Returns `image` itself when nothing changes.
 */
export function toSampleType (image: RasterImage, original: { bitsStored: number, signed: boolean }): RasterImage {
  const { bitsStored, signed } = original
  const target = allocateSamples(0, bitsStored, signed)
  if (image.bitsStored === bitsStored && image.signed === signed && image.data.constructor === target.constructor) {
    return image
  }
  const fromContainer = signed && bitsStored <= 8 && image.bitsStored === 9
  if (image.signed !== signed || (image.bitsStored > bitsStored && !fromContainer)) {
    throw new CodecError(`cannot convert decoded ${image.bitsStored}-bit ${image.signed ? 'signed' : 'unsigned'} samples to ${bitsStored}-bit ${signed ? 'signed' : 'unsigned'}: the codestream was not encoded from such an image`)
  }
  const { min, max } = sampleRange(bitsStored, signed)
  const data = allocateSamples(image.data.length, bitsStored, signed)
  for (let i = 0; i < data.length; i++) {
    const v = image.data[i]
    data[i] = v < min ? min : (v > max ? max : v)
  }
  return { ...image, bitsStored, signed, data }
}
