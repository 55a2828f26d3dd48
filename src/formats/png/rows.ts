/**
 * The common PNGs (not interlaced, 8 or 16 bits, gray, gray+alpha, RGB, RGBA, no tRNS) decoded
 * straight from their inflated rows into the raster: the rows are unfiltered in place and the
 * samples copied once. pngjs, used for the rest, inflates the data again and expands every image
 * to RGBA (4 or 8 bytes a pixel), so an 8-bit gray image at the size limit cost about six times
 * its pixels; this costs two (the rows and the raster).
 */
import { crc32 } from 'node:zlib'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { RasterImage } from '../../types.js'
import { PNG_CHANNELS, type PngHeader } from './chunks.js'

/** Whether `decodeRows` handles this file (else pngjs does). */
export function rowsDecodable (header: PngHeader, bytes: Uint8Array): boolean {
  if (header.interlace !== 0 || (header.bitDepth !== 8 && header.bitDepth !== 16) || header.colorType === 3) return false
  return !hasChunk(bytes, 'tRNS')
}

function hasChunk (bytes: Uint8Array, wanted: string): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let pos = 8; pos + 12 <= bytes.length;) { // structure already checked by readPngHeader
    const length = view.getUint32(pos)
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8))
    if (type === wanted) return true
    if (type === 'IEND') break
    pos += 12 + length
  }
  return false
}

/** Throws InvalidInputError on the first chunk whose CRC does not match (as pngjs does). */
function checkCrcs (label: string, bytes: Uint8Array, what: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let pos = 8; pos + 12 <= bytes.length;) {
    const length = view.getUint32(pos)
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8))
    if ((crc32(bytes.subarray(pos + 4, pos + 8 + length)) >>> 0) !== view.getUint32(pos + 8 + length)) {
      throw new InvalidInputError(`${label}: corrupt PNG (${what}): chunk ${type} at byte ${pos} has a wrong CRC`)
    }
    if (type === 'IEND') break
    pos += 12 + length
  }
}

/**
 * Unfilters `rows` (the inflated image data, exactly height x (1 + stride) bytes) in place and
 * returns the raster: gray stays gray, colour whose channels are all equal becomes gray, alpha
 * must be fully opaque (refused otherwise, like the pngjs path).
 */
export function decodeRows (label: string, bytes: Uint8Array, header: PngHeader, rows: Uint8Array, what: string): RasterImage {
  checkCrcs(label, bytes, what)
  const { width, height, bitDepth, colorType } = header
  const channels = PNG_CHANNELS[colorType]
  const sampleBytes = bitDepth / 8
  const bpp = channels * sampleBytes
  const stride = width * bpp
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1)
    const filter = rows[at]
    const row = at + 1
    const up = row - (stride + 1) // the previous row, already unfiltered (unused on the first)
    switch (filter) {
      case 0: break
      case 1: for (let i = bpp; i < stride; i++) rows[row + i] = (rows[row + i] + rows[row + i - bpp]) & 0xff; break
      case 2: if (y > 0) for (let i = 0; i < stride; i++) rows[row + i] = (rows[row + i] + rows[up + i]) & 0xff; break
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? rows[row + i - bpp] : 0
          const above = y > 0 ? rows[up + i] : 0
          rows[row + i] = (rows[row + i] + ((left + above) >> 1)) & 0xff
        }
        break
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? rows[row + i - bpp] : 0
          const b = y > 0 ? rows[up + i] : 0
          const c = i >= bpp && y > 0 ? rows[up + i - bpp] : 0
          const p = a + b - c
          const pa = Math.abs(p - a)
          const pb = Math.abs(p - b)
          const pc = Math.abs(p - c)
          rows[row + i] = (rows[row + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff
        }
        break
      default:
        throw new InvalidInputError(`${label}: corrupt PNG (${what}): row ${y} has filter type ${filter} (0..4 exist)`)
    }
  }
  const n = width * height
  // sample `ch` of pixel (x, y): rows are 1 + stride bytes (the filter byte first), 16-bit big-endian
  const wide = sampleBytes === 2
  const offset = (x: number, y: number, ch: number): number => y * (stride + 1) + 1 + x * bpp + ch * sampleBytes
  const sample = (o: number): number => wide ? (rows[o] << 8) | rows[o + 1] : rows[o]
  /** Calls fn(pixel index, byte offset of its first sample) for every pixel in order. */
  const each = (fn: (p: number, o: number) => void): void => {
    let p = 0
    for (let y = 0; y < height; y++) for (let x = 0, o = offset(0, y, 0); x < width; x++, o += bpp) fn(p++, o)
  }
  const max = bitDepth === 16 ? 0xffff : 0xff
  if (colorType === 4 || colorType === 6) {
    const alpha = (channels - 1) * sampleBytes
    each((_p, o) => { if (sample(o + alpha) !== max) throw new UnsupportedInputError(`${label}: ${what} PNG with transparency is not supported yet`) })
  }
  const sig = header.significantBits?.[0]
  if (colorType === 0 || colorType === 4) {
    const data = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n)
    each((p, o) => { data[p] = sample(o) })
    const bitsStored = sig != null && sig >= 1 && sig <= bitDepth ? sig : bitDepth
    return { width, height, components: 1, bitsStored, signed: false, data }
  }
  let gray = true
  each((_p, o) => { if (gray && (rows[o] !== rows[o + 1] || rows[o] !== rows[o + 2])) gray = false })
  if (gray) {
    const data = new Uint8Array(n)
    each((p, o) => { data[p] = rows[o] })
    return { width, height, components: 1, bitsStored: 8, signed: false, data }
  }
  const data = new Uint8Array(n * 3)
  each((p, o) => { data[3 * p] = rows[o]; data[3 * p + 1] = rows[o + 1]; data[3 * p + 2] = rows[o + 2] })
  return { width, height, components: 3, bitsStored: 8, signed: false, data }
}
