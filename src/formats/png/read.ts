/**
 * PNG reader: gray 1..16-bit PNGs become one-channel RasterImages with their
 * exact stored values; colour PNGs whose channels are all equal (and opaque)
 * become gray; opaque 8-bit colour becomes RGB. The rest is unsupported for now.
 * Non-interlaced 8/16-bit files without tRNS are decoded by rows.ts, the others by pngjs.
 */
import { inflateSync } from 'node:zlib'
import pngjs from 'pngjs'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { InputItem, RasterImage } from '../../types.js'
import { checkDimensions, checkFrame, MAX_BYTES } from '../limits.js'
import { readPngHeader, PNG_CHANNELS, type PngHeader } from './chunks.js'
import { decodeRows, rowsDecodable } from './rows.js'

const COLOR_NAMES: Record<number, string> = { 0: 'gray', 2: 'RGB', 3: 'palette', 4: 'gray+alpha', 6: 'RGBA' }

/** Decodes a PNG file's bytes into an InputItem of kind 'image'. */
export function readPngBytes (label: string, bytes: Uint8Array): InputItem {
  const header = readPngHeader(label, bytes)
  const { width, height, bitDepth, colorType } = header
  const what = `${width}x${height} ${bitDepth}-bit ${COLOR_NAMES[colorType]}`
  checkDimensions(label, [width, height], Math.ceil(bitDepth / 8) * PNG_CHANNELS[colorType], what)
  if (bitDepth === 16 && colorType !== 0 && colorType !== 4) {
    throw new UnsupportedInputError(`${label}: ${what} PNG is not supported yet (16-bit colour)`)
  }
  const rows = checkImageData(label, bytes, header, what)
  if (rowsDecodable(header, bytes)) {
    const image = decodeRows(label, bytes, header, rows, what)
    return { kind: 'image', image, meta: { sourceFormat: 'png', photometric: image.components === 3 ? 'RGB' : 'MONOCHROME2', bitsAllocated: bitDepth === 16 ? 16 : 8 } }
  }
  let decoded: { data: Uint8Array | Uint16Array }
  try {
    decoded = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true }) as unknown as { data: Uint8Array | Uint16Array }
  } catch (err) {
    throw new InvalidInputError(`${label}: corrupt PNG (${what}): ${(err as Error).message}`, { cause: err })
  }
  const rgba = decoded.data
  if (rgba.length !== width * height * 4) {
    throw new InvalidInputError(`${label}: corrupt PNG (${what}): decoded ${rgba.length} samples, expected ${width * height * 4}`)
  }
  const image = toRaster(label, header, what, rgba)
  return { kind: 'image', image, meta: { sourceFormat: 'png', photometric: image.components === 3 ? 'RGB' : 'MONOCHROME2', bitsAllocated: bitDepth === 16 ? 16 : 8 } }
}

/** pngjs always yields RGBA; pick the channels the file really holds. */
function toRaster (label: string, header: PngHeader, what: string, rgba: Uint8Array | Uint16Array): RasterImage {
  const { width, height, bitDepth, colorType } = header
  const n = width * height
  const sig = header.significantBits?.[0]
  const bitsStored = sig != null && sig >= 1 && sig <= bitDepth ? sig : bitDepth
  if (colorType === 0 || (colorType === 4 && isOpaque(rgba, bitDepth))) {
    const data = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n)
    for (let i = 0; i < n; i++) data[i] = rgba[4 * i]
    return { width, height, components: 1, bitsStored, signed: false, data }
  }
  if (colorType === 4) throw new UnsupportedInputError(`${label}: ${what} PNG with transparency is not supported yet`)
  if (!isOpaque(rgba, 8)) throw new UnsupportedInputError(`${label}: ${what} PNG with transparency is not supported yet`)
  if (isGrayRgb(rgba)) {
    const data = new Uint8Array(n)
    for (let i = 0; i < n; i++) data[i] = rgba[4 * i]
    return { width, height, components: 1, bitsStored: 8, signed: false, data }
  }
  const data = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) {
    data[3 * i] = rgba[4 * i]
    data[3 * i + 1] = rgba[4 * i + 1]
    data[3 * i + 2] = rgba[4 * i + 2]
  }
  return { width, height, components: 3, bitsStored: 8, signed: false, data }
}

function isOpaque (rgba: Uint8Array | Uint16Array, bitDepth: number): boolean {
  const max = bitDepth === 16 ? 0xffff : 0xff
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== max) return false
  return true
}

function isGrayRgb (rgba: Uint8Array | Uint16Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false
  }
  return true
}

/** Deflate expands at most ~1032:1; a little slack for the zlib header and tiny streams. */
const MAX_INFLATE_RATIO = 1032

/** Bytes of filtered scanlines the header implies (one filter byte per row; Adam7 passes when interlaced). */
function rawSize (header: PngHeader): number {
  const { width, height, bitDepth, colorType, interlace } = header
  const bitsPerPixel = PNG_CHANNELS[colorType] * bitDepth
  const rows = (w: number, h: number): number => w === 0 || h === 0 ? 0 : h * (1 + Math.ceil(w * bitsPerPixel / 8))
  if (interlace !== 1) return rows(width, height)
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
  let total = 0
  for (const [x0, y0, dx, dy] of passes) total += rows(Math.max(0, Math.ceil((width - x0) / dx)), Math.max(0, Math.ceil((height - y0) / dy)))
  return total
}

/**
 * Before pngjs allocates anything: its RGBA output (4 channels, 2 bytes each at 16 bits) must stay
 * under MAX_BYTES, the IDAT bytes present must be able to hold the rows the header claims, and
 * they must inflate to exactly that many bytes: pngjs fills missing rows with zeros silently (a PNG
 * whose height was raised from 200 to 65534 decoded "fine", 336 MB of it zeros). Returns the rows.
 */
function checkImageData (label: string, bytes: Uint8Array, header: PngHeader, what: string): Uint8Array {
  const rgbaBytes = header.width * header.height * 4 * (header.bitDepth === 16 ? 2 : 1)
  if (rgbaBytes > MAX_BYTES) {
    throw new UnsupportedInputError(`${label}: ${what} PNG needs ${rgbaBytes} bytes to decode (as RGBA), more than the limit of ${MAX_BYTES}`)
  }
  // gray (with or without alpha) gives one channel, colour and palette up to three; before inflating
  checkFrame(label, header.width, header.height, header.colorType === 0 || header.colorType === 4 ? 1 : 3, header.bitDepth === 16 ? 2 : 1, `${what} PNG`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const idat: Uint8Array[] = []
  let compressed = 0
  for (let pos = 8; pos + 12 <= bytes.length;) { // structure already checked by readPngHeader
    const length = view.getUint32(pos)
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8))
    if (type === 'IDAT') { idat.push(bytes.subarray(pos + 8, pos + 8 + length)); compressed += length }
    if (type === 'IEND') break
    pos += 12 + length
  }
  const expected = rawSize(header)
  if (expected > MAX_INFLATE_RATIO * compressed + 1024) {
    throw new InvalidInputError(`${label}: corrupt PNG (${what}): its ${compressed} bytes of image data cannot hold the ${expected} bytes of rows the header claims (truncated, or a wrong width or height)`)
  }
  let inflated: Buffer
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InvalidInputError(`${label}: corrupt PNG (${what}): the image data holds more than the ${expected} bytes of rows the header claims (a wrong width or height)`)
    }
    throw new InvalidInputError(`${label}: corrupt PNG (${what}): its image data does not inflate (${(err as Error).message})`, { cause: err })
  }
  if (inflated.length !== expected) {
    throw new InvalidInputError(`${label}: corrupt PNG (${what}): the image data holds ${inflated.length} bytes of rows, the header claims ${expected} (truncated, or a wrong width or height)`)
  }
  return inflated
}
