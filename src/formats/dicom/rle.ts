/**
 * DICOM RLE Lossless (PS3.5 Annex G) frame decoder. A frame is a 64-byte
 * header (segment count, then up to 15 segment offsets) followed by PackBits
 * segments; each segment holds one byte plane: for every sample, the most
 * significant byte first, for every colour component in turn (planar).
 * No maintained stand-alone RLE decoder exists on npm, and Annex G is small.
 */
import { InvalidInputError } from '../../errors.js'

/** Decoded RLE frame: samples in the DICOM native layout (interleaved by component), right-aligned in bitsAllocated. */
export function decodeRleFrame (label: string, frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: 8 | 16): Uint8Array | Uint16Array {
  const pixels = rows * columns
  const bytesPerSample = bitsAllocated / 8
  const segments = samplesPerPixel * bytesPerSample
  if (frame.length < 64) throw new InvalidInputError(`${label}: RLE frame of ${frame.length} bytes is shorter than its 64-byte header`)
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const count = view.getUint32(0, true)
  if (count !== segments) {
    throw new InvalidInputError(`${label}: RLE frame has ${count} segments, expected ${segments} (${samplesPerPixel} samples x ${bytesPerSample} bytes)`)
  }
  const offsets = Array.from({ length: count }, (_, i) => view.getUint32(4 + 4 * i, true))
  const out = bitsAllocated === 8 ? new Uint8Array(pixels * samplesPerPixel) : new Uint16Array(pixels * samplesPerPixel)
  const plane = new Uint8Array(pixels)
  for (let s = 0; s < count; s++) {
    const start = offsets[s]
    const end = s + 1 < count ? offsets[s + 1] : frame.length
    if (start < 64 || end > frame.length || end < start) throw new InvalidInputError(`${label}: RLE segment ${s} offsets ${start}..${end} lie outside the frame`)
    unpackBits(label, frame.subarray(start, end), plane)
    const component = Math.floor(s / bytesPerSample)
    const shift = 8 * (bytesPerSample - 1 - (s % bytesPerSample))
    for (let p = 0; p < pixels; p++) out[p * samplesPerPixel + component] |= plane[p] << shift
  }
  return out
}

/** PackBits: n in 0..127 copies n+1 literal bytes; n in -127..-1 repeats the next byte 1-n times; -128 is a no-op. */
function unpackBits (label: string, src: Uint8Array, dst: Uint8Array): void {
  let i = 0
  let o = 0
  while (o < dst.length && i < src.length) {
    const n = src[i++]
    if (n < 128) {
      const len = n + 1
      if (i + len > src.length || o + len > dst.length) throw new InvalidInputError(`${label}: corrupt RLE segment: literal run past the end`)
      dst.set(src.subarray(i, i + len), o)
      i += len
      o += len
    } else if (n > 128) {
      const len = 257 - n
      if (i >= src.length || o + len > dst.length) throw new InvalidInputError(`${label}: corrupt RLE segment: replicate run past the end`)
      dst.fill(src[i++], o, o + len)
      o += len
    }
  }
  if (o < dst.length) throw new InvalidInputError(`${label}: truncated RLE segment: ${o} of ${dst.length} bytes`)
}
