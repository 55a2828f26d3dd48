/**
 * PNG writer: 8/16-bit gray (with an sBIT chunk when fewer bits are stored)
 * and 8-bit RGB. Signed data is refused: PNG has no signed samples, the caller
 * should choose NIfTI instead.
 */
import { deflateSync, crc32 } from 'node:zlib'
import { UnsupportedInputError } from '../errors.js'
import type { RasterImage } from '../types.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { checkRaster } from './raster-check.js'

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

/** Encodes a RasterImage as a PNG file (non-interlaced, adaptive row filters, zlib level 6). */
export function encodePng (image: RasterImage): Uint8Array {
  checkRaster('encodePng', image)
  const { width, height, components, bitsStored, signed } = image
  if (signed) throw new UnsupportedInputError(`encodePng: signed ${bitsStored}-bit samples cannot be stored in PNG; write NIfTI instead`)
  if (components !== 1 && components !== 3) throw new UnsupportedInputError(`encodePng: ${components} components are not supported (1 or 3)`)
  const bitDepth = bitsStored <= 8 ? 8 : 16
  if (components === 3 && bitDepth !== 8) throw new UnsupportedInputError('encodePng: 16-bit RGB is not supported')
  const bytesPerPixel = components * (bitDepth / 8)
  const raw = toBigEndianRows(image, bitDepth)
  const filtered = filterRows(raw, width * bytesPerPixel, height, bytesPerPixel)
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr[8] = bitDepth
  ihdr[9] = components === 1 ? 0 : 2
  const chunks = [chunk('IHDR', ihdr)]
  if (bitsStored !== bitDepth) chunks.push(chunk('sBIT', new Uint8Array(components).fill(bitsStored)))
  chunks.push(chunk('IDAT', deflateSync(filtered, { level: 6 })), chunk('IEND', new Uint8Array(0)))
  return concat([SIGNATURE, ...chunks])
}

/** Encodes and writes a PNG atomically (path + '.tmp-<random>', then rename). */
export async function writePng (path: string, image: RasterImage): Promise<void> {
  await writeFileAtomic(path, encodePng(image))
}

/** Samples as PNG stores them: rows of big-endian samples. */
function toBigEndianRows (image: RasterImage, bitDepth: number): Uint8Array {
  const { data } = image
  if (bitDepth === 8) return new Uint8Array(data.buffer, data.byteOffset, data.length)
  const out = new Uint8Array(data.length * 2)
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  }
  return out
}

/** Applies, per row, the PNG filter with the smallest sum of absolute residuals (the libpng heuristic). */
function filterRows (raw: Uint8Array, rowBytes: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * (rowBytes + 1))
  const candidate = new Uint8Array(rowBytes)
  const zero = new Uint8Array(rowBytes)
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * rowBytes, (y + 1) * rowBytes)
    const prev = y === 0 ? zero : raw.subarray((y - 1) * rowBytes, y * rowBytes)
    let bestType = 0
    let bestScore = Infinity
    const target = out.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1))
    for (let type = 0; type < 5; type++) {
      applyFilter(type, row, prev, bpp, candidate)
      let score = 0
      for (let i = 0; i < rowBytes; i++) { const c = candidate[i]; score += c < 128 ? c : 256 - c }
      if (score < bestScore) { bestScore = score; bestType = type; target.set(candidate) }
    }
    out[y * (rowBytes + 1)] = bestType
  }
  return out
}

function applyFilter (type: number, row: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0
    const b = prev[i]
    const c = i >= bpp ? prev[i - bpp] : 0
    let p = 0
    if (type === 1) p = a
    else if (type === 2) p = b
    else if (type === 3) p = (a + b) >> 1
    else if (type === 4) p = paeth(a, b, c)
    out[i] = (row[i] - p) & 0xff
  }
}

function paeth (a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

function chunk (type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const p of parts) { out.set(p, pos); pos += p.length }
  return out
}
