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
    if (filter > 4) throw new InvalidInputError(`${label}: corrupt PNG (${what}): row ${y} has filter type ${filter} (0..4 exist)`)
    unfilterRow(rows, filter, at + 1, y > 0 ? at - stride : -1, stride, bpp)
  }
  const n = width * height
  const max = bitDepth === 16 ? 0xffff : 0xff
  const wide = bitDepth === 16
  if (colorType === 4 || colorType === 6) {
    // every alpha sample must be opaque
    const alpha = (channels - 1) * sampleBytes
    for (let y = 0; y < height; y++) {
      const end = y * (stride + 1) + 1 + stride
      for (let o = y * (stride + 1) + 1 + alpha; o < end; o += bpp) {
        if ((wide ? (rows[o] << 8) | rows[o + 1] : rows[o]) !== max) throw new UnsupportedInputError(`${label}: ${what} PNG with transparency is not supported yet`)
      }
    }
  }
  const sig = header.significantBits?.[0]
  if (colorType === 0 || colorType === 4) {
    const data = wide ? new Uint16Array(n) : new Uint8Array(n)
    if (colorType === 0) {
      // plain gray: each row copied whole (big-endian words swapped afterwards in place)
      const bytes = new Uint8Array(data.buffer)
      for (let y = 0; y < height; y++) bytes.set(rows.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), y * stride)
      if (wide && !hostIsBigEndian) swapWords(data as Uint16Array)
    } else {
      let p = 0
      for (let y = 0; y < height; y++) {
        let o = y * (stride + 1) + 1
        if (wide) for (let x = 0; x < width; x++, o += bpp) data[p++] = (rows[o] << 8) | rows[o + 1]
        else for (let x = 0; x < width; x++, o += bpp) data[p++] = rows[o]
      }
    }
    const bitsStored = sig != null && sig >= 1 && sig <= bitDepth ? sig : bitDepth
    return { width, height, components: 1, bitsStored, signed: false, data }
  }
  // 8-bit colour (16-bit colour is refused before): gray when every pixel's channels are equal
  let gray = true
  for (let y = 0; y < height && gray; y++) {
    const end = y * (stride + 1) + 1 + stride
    for (let o = y * (stride + 1) + 1; o < end; o += bpp) if (rows[o] !== rows[o + 1] || rows[o] !== rows[o + 2]) { gray = false; break }
  }
  const data = new Uint8Array(gray ? n : n * 3)
  let p = 0
  for (let y = 0; y < height; y++) {
    let o = y * (stride + 1) + 1
    if (gray) for (let x = 0; x < width; x++, o += bpp) data[p++] = rows[o]
    else for (let x = 0; x < width; x++, o += bpp) { data[p++] = rows[o]; data[p++] = rows[o + 1]; data[p++] = rows[o + 2] }
  }
  return { width, height, components: gray ? 1 : 3, bitsStored: 8, signed: false, data }
}

const hostIsBigEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0

function swapWords (words: Uint16Array): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]
    words[i] = (v >>> 8) | (v << 8)
  }
}

/**
 * Undoes one row's filter in place: `row` is its first byte, `up` the previous row's (-1 on the
 * first row, which counts as zeros). The first `bpp` bytes have no left neighbour, so each filter
 * handles them apart and runs its main loop without bounds tests.
 */
function unfilterRow (rows: Uint8Array, filter: number, row: number, up: number, stride: number, bpp: number): void {
  const first = Math.min(bpp, stride)
  switch (filter) {
    case 0: return
    case 1:
      for (let i = row + bpp, end = row + stride; i < end; i++) rows[i] = (rows[i] + rows[i - bpp]) & 0xff
      return
    case 2:
      if (up >= 0) for (let i = 0; i < stride; i++) rows[row + i] = (rows[row + i] + rows[up + i]) & 0xff
      return
    case 3:
      if (up < 0) {
        for (let i = row + bpp, end = row + stride; i < end; i++) rows[i] = (rows[i] + (rows[i - bpp] >> 1)) & 0xff
        return
      }
      for (let i = 0; i < first; i++) rows[row + i] = (rows[row + i] + (rows[up + i] >> 1)) & 0xff
      for (let i = first; i < stride; i++) rows[row + i] = (rows[row + i] + ((rows[row + i - bpp] + rows[up + i]) >> 1)) & 0xff
      return
    case 4:
      // with no row above, Paeth predicts the left neighbour (filter 1)
      if (up < 0) {
        for (let i = row + bpp, end = row + stride; i < end; i++) rows[i] = (rows[i] + rows[i - bpp]) & 0xff
        return
      }
      for (let i = 0; i < first; i++) rows[row + i] = (rows[row + i] + rows[up + i]) & 0xff
      // branch-free: which neighbour Paeth picks depends on the data, so branches mispredict
      // about as often as not (a mask picks it here; same result as the spec's comparisons)
      for (let i = first; i < stride; i++) {
        const a = rows[row + i - bpp]
        const b = rows[up + i]
        const c = rows[up + i - bpp]
        let pa = b - c
        pa = (pa ^ (pa >> 31)) - (pa >> 31)
        let pb = a - c
        pb = (pb ^ (pb >> 31)) - (pb >> 31)
        let pc = a + b - c - c
        pc = (pc ^ (pc >> 31)) - (pc >> 31)
        const notA = ((pb - pa) | (pc - pa)) >> 31 // -1 when pa > pb or pa > pc
        const notB = (pc - pb) >> 31 // -1 when pb > pc
        rows[row + i] = rows[row + i] + ((a & ~notA) | (((b & ~notB) | (c & notB)) & notA))
      }
  }
}
