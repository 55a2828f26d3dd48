/**
 * DICOM colour models turned into what mist-p2p publishes (8-bit RGB):
 * - YBR_FULL (and YBR_FULL_422 once upsampled) to RGB with the PS3.3
 *   C.7.6.3.1.2 equations, rounded as pydicom's convert_color_space does;
 *   the rounding makes this step not exactly invertible.
 * - YBR_FULL_422 native data (Y1 Y2 Cb Cr per pixel pair) upsampled by
 *   repeating each chroma pair for both pixels.
 * - PALETTE COLOR indices expanded through the red/green/blue LUTs to 8-bit
 *   RGB (16-bit LUT entries keep their high byte).
 */
import type { DataSet } from 'dicom-parser'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'

/** Interleaved 8-bit YCbCr (full range) to interleaved 8-bit RGB. */
export function ybrFullToRgb (ybr: Uint8Array): Uint8Array {
  const out = new Uint8Array(ybr.length)
  for (let i = 0; i < ybr.length; i += 3) {
    const y = ybr[i]
    const cb = ybr[i + 1] - 128
    const cr = ybr[i + 2] - 128
    out[i] = clamp(Math.floor(y + 1.402 * cr + 0.5))
    out[i + 1] = clamp(Math.floor(y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr + 0.5))
    out[i + 2] = clamp(Math.floor(y + 1.772 * cb + 0.5))
  }
  return out
}

function clamp (v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v
}

/** Native YBR_FULL_422 (4 bytes per 2 pixels: Y1 Y2 Cb Cr) to interleaved YCbCr, 3 bytes per pixel. */
export function upsampleYbr422 (label: string, bytes: Uint8Array, rows: number, columns: number): Uint8Array {
  if (columns % 2 !== 0) throw new InvalidInputError(`${label}: YBR_FULL_422 image with an odd number of columns (${columns})`)
  const pixels = rows * columns
  if (bytes.length < pixels * 2) throw new InvalidInputError(`${label}: truncated YBR_FULL_422 pixel data: ${bytes.length} bytes for ${columns}x${rows}`)
  const out = new Uint8Array(pixels * 3)
  for (let p = 0, i = 0; p < pixels; p += 2, i += 4) {
    const cb = bytes[i + 2]
    const cr = bytes[i + 3]
    out.set([bytes[i], cb, cr, bytes[i + 1], cb, cr], 3 * p)
  }
  return out
}

/** A palette: one 8-bit RGB triple per index. */
export interface Palette { first: number, rgb: Uint8Array }

/** Reads the Red/Green/Blue Palette Color LUTs (descriptor and data); segmented palettes are refused. */
export function readPalette (label: string, ds: DataSet, littleEndian: boolean): Palette {
  if (ds.elements.x00281221 != null) throw new UnsupportedInputError(`${label}: DICOM segmented palette colour LUTs are not supported yet`)
  const channels = ['x00281201', 'x00281202', 'x00281203'].map((tag, c) => {
    const desc = ['x00281101', 'x00281102', 'x00281103'][c]
    const el = ds.elements[desc]
    if (el == null) throw new InvalidInputError(`${label}: PALETTE COLOR image lacks its LUT descriptor (${desc})`)
    let entries = ds.uint16(desc, 0) ?? 0
    if (entries === 0) entries = 65536
    const first = ds.uint16(desc, 1) ?? 0
    const bits = ds.uint16(desc, 2) ?? 16
    const data = ds.elements[tag]
    if (data == null) throw new InvalidInputError(`${label}: PALETTE COLOR image lacks its LUT data (${tag})`)
    const bytes = ds.byteArray.subarray(data.dataOffset, data.dataOffset + data.length)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const values = new Uint8Array(entries)
    for (let i = 0; i < entries; i++) {
      if (bits === 8 && data.length === entries) values[i] = bytes[i]
      else if (2 * i + 2 <= bytes.length) values[i] = bits === 8 ? view.getUint16(2 * i, littleEndian) & 0xff : view.getUint16(2 * i, littleEndian) >> 8
      else throw new InvalidInputError(`${label}: PALETTE COLOR LUT ${tag} holds ${data.length} bytes for ${entries} entries`)
    }
    return { first, values }
  })
  const first = channels[0].first
  const n = channels[0].values.length
  if (channels.some(c => c.first !== first || c.values.length !== n)) throw new UnsupportedInputError(`${label}: PALETTE COLOR LUTs of different lengths are not supported`)
  const rgb = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = channels[c].values[i]
  return { first, rgb }
}

/** Palette indices to interleaved RGB; indices below the first mapped value use the first entry, above the last use the last (PS3.3 C.7.6.3.1.5). */
export function applyPalette (indices: ArrayLike<number>, palette: Palette): Uint8Array {
  const n = palette.rgb.length / 3
  const out = new Uint8Array(indices.length * 3)
  for (let i = 0; i < indices.length; i++) {
    const k = Math.min(Math.max(indices[i] - palette.first, 0), n - 1)
    out[3 * i] = palette.rgb[3 * k]
    out[3 * i + 1] = palette.rgb[3 * k + 1]
    out[3 * i + 2] = palette.rgb[3 * k + 2]
  }
  return out
}
