/**
 * Checks that a RasterImage is something this WASM build encodes correctly.
 * Every refusal is a CodecError that says what is wrong and what is supported,
 * because the build silently corrupts the cases refused here (see
 * /work/shared/notes/htj2k.md).
 */
import { CodecError } from '../errors.js'
import type { RasterImage, SampleArray } from '../types.js'

/** Largest width or height the codec accepts. */
export const MAX_SIDE = 65535
/** Largest sample depth this release handles. */
export const MAX_BITS = 16
/**
 * Largest decoded raster, in bytes (width x height x components x 1 or 2 bytes per sample), 128 MiB:
 * e.g. 8192x8192 16-bit. A decode that would produce more is refused from the header, before
 * anything is allocated (decoding peaks at about twice this: OpenJPH's buffer plus its copy), and
 * an image that big is refused for encoding, so mist-p2p never publishes what it would not decode.
 */
export const MAX_DECODED_BYTES = 128 * 1024 * 1024

/** Inclusive range of values a sample of `bits` bits may take. */
export function sampleRange (bits: number, signed: boolean): { min: number, max: number } {
  return signed
    ? { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 }
    : { min: 0, max: 2 ** bits - 1 }
}

/** Smallest and largest sample value (one pass). */
export function minMax (data: SampleArray): { min: number, max: number } {
  if (data.length === 0) return { min: Infinity, max: -Infinity }
  // small integers from the first sample on (not ±Infinity): the loop stays in integer compares
  let min = data[0] | 0
  let max = min
  for (let i = 1; i < data.length; i++) {
    const v = data[i]
    if (v < min) min = v
    else if (v > max) max = v
  }
  return { min, max }
}

function describe (image: RasterImage): string {
  return `${image.width}x${image.height}, ${image.components} component(s), ${image.bitsStored}-bit ${image.signed ? 'signed' : 'unsigned'}`
}

/** Throws CodecError unless `image` can be encoded losslessly by this release. */
export function validateImage (image: RasterImage): void {
  const { width, height, components, bitsStored, signed, data } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new CodecError(`cannot encode image of ${width}x${height} pixels: width and height must be integers in 1..${MAX_SIDE}`)
  }
  if (components !== 1 && components !== 3) {
    throw new CodecError(`cannot encode image with ${components} components: only 1 (grayscale) or 3 (RGB) are supported`)
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1) {
    throw new CodecError(`cannot encode image with bitsStored ${bitsStored}: it must be an integer in 1..${MAX_BITS}`)
  }
  if (bitsStored > MAX_BITS) {
    throw new CodecError(`cannot encode ${describe(image)} image: this release handles at most ${MAX_BITS} bits per sample (the WASM codec silently corrupts deeper samples)`)
  }
  if (components > 1 && bitsStored > 8) {
    throw new CodecError(`cannot encode ${describe(image)} image: multi-component images must be at most 8 bits per sample in this release`)
  }
  if (typeof signed !== 'boolean') {
    throw new CodecError(`cannot encode ${describe(image)} image: 'signed' must be a boolean`)
  }
  if (!(data instanceof Uint8Array || data instanceof Int8Array || data instanceof Uint16Array || data instanceof Int16Array)) {
    throw new CodecError(`cannot encode ${describe(image)} image: data must be a Uint8Array, Int8Array, Uint16Array or Int16Array`)
  }
  const decodedBytes = width * height * components * (bitsStored <= 8 && !signed ? 1 : 2)
  if (decodedBytes > MAX_DECODED_BYTES) {
    throw new CodecError(`cannot encode ${describe(image)} image: it decodes to ${decodedBytes} bytes, more than the ${MAX_DECODED_BYTES}-byte (128 MiB) limit of this release (e.g. 8192x8192 16-bit)`)
  }
  const expected = width * height * components
  if (data.length !== expected) {
    throw new CodecError(`cannot encode ${describe(image)} image: data has ${data.length} samples, expected width*height*components = ${expected}`)
  }
  const allowed = sampleRange(bitsStored, signed)
  const found = minMax(data)
  if (found.min < allowed.min || found.max > allowed.max) {
    throw new CodecError(`cannot encode ${describe(image)} image: sample values span [${found.min}, ${found.max}] but ${bitsStored}-bit ${signed ? 'signed' : 'unsigned'} allows only [${allowed.min}, ${allowed.max}]; fix bitsStored/signed or the data`)
  }
}
