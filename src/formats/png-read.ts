/**
 * PNG reader: gray 1..16-bit PNGs become one-channel RasterImages with their
 * exact stored values; colour PNGs whose channels are all equal (and opaque)
 * become gray; opaque 8-bit colour becomes RGB. The rest is unsupported for now.
 */
import pngjs from 'pngjs'
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { InputItem, RasterImage } from '../types.js'
import { checkDimensions } from './limits.js'
import { readPngHeader, PNG_CHANNELS, type PngHeader } from './png-chunks.js'

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
