import type { RasterImage, SampleArray } from '../types.js'

/**
 * Returns the decoded raster in the sample type of the source image (the codec may hand
 * back a wider container, e.g. signed 8-bit data is coded in a signed 16-bit container).
 * Values are unchanged; a value that does not fit the source type is a codec bug and throws.
 */
export function toSourceSamples (image: RasterImage, source: { bitsStored: number, signed: boolean }): RasterImage {
  const { bitsStored, signed } = source
  const Target = bitsStored <= 8 ? (signed ? Int8Array : Uint8Array) : (signed ? Int16Array : Uint16Array)
  let data: SampleArray
  if (image.data instanceof Target) {
    data = image.data
  } else if (image.data.BYTES_PER_ELEMENT === Target.BYTES_PER_ELEMENT) {
    data = new Target(image.data.buffer as ArrayBuffer, image.data.byteOffset, image.data.length)
  } else {
    data = new Target(image.data.length)
    const src = image.data
    const min = signed ? -(2 ** (bitsStored - 1)) : 0
    const max = signed ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1
    for (let i = 0; i < src.length; i++) {
      const v = src[i]
      if (v < min || v > max) throw new RangeError(`decoded sample ${v} does not fit ${signed ? 'signed' : 'unsigned'} ${bitsStored}-bit data`)
      data[i] = v
    }
  }
  return { ...image, bitsStored, signed, data }
}
