/**
 * PNG writer: 8/16-bit gray (with an sBIT chunk when fewer bits are stored)
 * and 8-bit RGB. Signed data is refused: PNG has no signed samples, the caller
 * should choose NIfTI instead.
 */
import { constants, crc32, deflateSync } from 'node:zlib'
import { UnsupportedInputError } from '../../errors.js'
import type { RasterImage } from '../../types.js'
import { writeFileAtomic } from '../../util/atomic-write.js'
import { checkRaster } from '../raster-check.js'

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

/**
 * Encodes a RasterImage as a PNG file: non-interlaced, per row the filter with the smallest sum of
 * absolute residuals (libpng's heuristic, on a sample of the row), deflate with the run-length
 * strategy (Z_RLE): on medical images as small as zlib level 6 in a fraction of the time
 * (docs/DESIGN.md, "Measurements behind choices").
 */
export function encodePng (image: RasterImage): Uint8Array {
  checkPngEncodable(image)
  const { width, height, components, bitsStored } = image
  const bitDepth = bitsStored <= 8 ? 8 : 16
  const bytesPerPixel = components * (bitDepth / 8)
  const raw = toBigEndianRows(image, bitDepth)
  const filtered = filterRows(raw, width * bytesPerPixel, height, bytesPerPixel)
  // both are scratch, reused by the next call (deflateSync has consumed them when it returns)
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr[8] = bitDepth
  ihdr[9] = components === 1 ? 0 : 2
  const chunks: Array<[string, Uint8Array]> = [['IHDR', ihdr]]
  if (bitsStored !== bitDepth) chunks.push(['sBIT', new Uint8Array(components).fill(bitsStored)])
  chunks.push(['IDAT', deflateSync(filtered, { level: 6, strategy: constants.Z_RLE })], ['IEND', new Uint8Array(0)])
  return assemble(chunks)
}

/** Throws what encodePng would throw for this image's layout (before a worker is asked to encode it). */
export function checkPngEncodable (image: RasterImage): void {
  checkRaster('encodePng', image)
  const { components, bitsStored, signed } = image
  if (signed) throw new UnsupportedInputError(`encodePng: signed ${bitsStored}-bit samples cannot be stored in PNG; write NIfTI instead`)
  if (components !== 1 && components !== 3) throw new UnsupportedInputError(`encodePng: ${components} components are not supported (1 or 3)`)
  if (components === 3 && bitsStored > 8) throw new UnsupportedInputError('encodePng: 16-bit RGB is not supported')
}

/** Encodes and writes a PNG atomically (path + '.tmp-<random>', then rename). */
export async function writePng (path: string, image: RasterImage): Promise<void> {
  await writeFileAtomic(path, encodePng(image))
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

/** Samples as PNG stores them: rows of big-endian samples. */
function toBigEndianRows (image: RasterImage, bitDepth: number): Uint8Array {
  const { data } = image
  if (bitDepth === 8) return new Uint8Array(data.buffer, data.byteOffset, data.length)
  const out = scratch('be', data.length * 2)
  if (data instanceof Uint16Array && LITTLE_ENDIAN) {
    // a copy of the little-endian samples, byte-swapped natively
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    Buffer.from(out.buffer, out.byteOffset, out.byteLength).swap16()
    return out
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  }
  return out
}

/**
 * Applies, per row, the PNG filter with the smallest sum of absolute residuals (libpng's
 * heuristic), scored on every 4th pixel (whole pixels, both bytes of a 16-bit sample): scoring all
 * five filters on every byte cost twice the filtering itself, and the sampled choice makes files
 * about as small. A second pass writes the chosen filter.
 */
function filterRows (raw: Uint8Array, rowBytes: number, height: number, bpp: number): Uint8Array {
  const out = scratch('filtered', height * (rowBytes + 1))
  const zero = new Uint8Array(rowBytes)
  for (let y = 0; y < height; y++) {
    const r0 = y * rowBytes
    // the row above: `prev[p0 + i]` (zeros above the first row)
    const prev = y === 0 ? zero : raw
    const p0 = y === 0 ? 0 : r0 - rowBytes
    let s0 = 0; let s1 = 0; let s2 = 0; let s3 = 0; let s4 = 0
    for (let px = 1; px * bpp < rowBytes; px += SCORE_STEP) {
      for (let k = 0; k < bpp; k++) {
        const i = px * bpp + k
        const x = raw[r0 + i]
        const a = raw[r0 + i - bpp]
        const b = prev[p0 + i]
        const c = prev[p0 + i - bpp]
        let d = x; s0 += d < 128 ? d : 256 - d
        d = (x - a) & 0xff; s1 += d < 128 ? d : 256 - d
        d = (x - b) & 0xff; s2 += d < 128 ? d : 256 - d
        d = (x - ((a + b) >> 1)) & 0xff; s3 += d < 128 ? d : 256 - d
        d = (x - paeth(a, b, c)) & 0xff; s4 += d < 128 ? d : 256 - d
      }
    }
    let type = 0
    let best = s0
    if (s1 < best) { best = s1; type = 1 }
    if (s2 < best) { best = s2; type = 2 }
    if (s3 < best) { best = s3; type = 3 }
    if (s4 < best) { type = 4 }
    const o = y * (rowBytes + 1)
    out[o] = type
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? raw[r0 + i - bpp] : 0
      const b = prev[p0 + i]
      let p = 0
      if (type === 1) p = a
      else if (type === 2) p = b
      else if (type === 3) p = (a + b) >> 1
      else if (type === 4) p = paeth(a, b, i >= bpp ? prev[p0 + i - bpp] : 0)
      out[o + 1 + i] = (raw[r0 + i] - p) & 0xff
    }
  }
  return out
}

/**
 * Per-thread scratch buffers of encodePng (the big-endian rows and the filtered rows), grown to the
 * largest image seen and reused: a codec worker encoding PNG after PNG otherwise leaves two dead
 * buffers per image for the garbage collector, which V8 frees late (tens of MiB of peak RSS).
 */
const scratchBuffers = new Map<string, Uint8Array>()
function scratch (name: string, bytes: number): Uint8Array {
  let buf = scratchBuffers.get(name)
  if (buf == null || buf.byteLength < bytes) {
    buf = new Uint8Array(Math.max(bytes, (buf?.byteLength ?? 0) * 1.25) | 0)
    scratchBuffers.set(name, buf)
  }
  return buf.subarray(0, bytes)
}

/** filterRows scores every SCORE_STEP-th pixel of a row. */
const SCORE_STEP = 4

function paeth (a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

/** The signature and the chunks (length, type, data, CRC of type + data) in one new buffer. */
function assemble (chunks: Array<[string, Uint8Array]>): Uint8Array {
  const out = new Uint8Array(SIGNATURE.length + chunks.reduce((n, [, d]) => n + 12 + d.length, 0))
  const view = new DataView(out.buffer)
  out.set(SIGNATURE, 0)
  let pos = SIGNATURE.length
  for (const [type, data] of chunks) {
    view.setUint32(pos, data.length)
    for (let i = 0; i < 4; i++) out[pos + 4 + i] = type.charCodeAt(i)
    out.set(data, pos + 8)
    view.setUint32(pos + 8 + data.length, crc32(out.subarray(pos + 4, pos + 8 + data.length)))
    pos += 12 + data.length
  }
  return out
}
