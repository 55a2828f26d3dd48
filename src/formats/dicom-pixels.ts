/**
 * Native DICOM pixel data to RasterImage samples: byte order, bits above
 * BitsStored masked off (HighBit honoured), sign extension from BitsStored,
 * planar RGB interleaved.
 */
import type { RasterImage } from '../types.js'

/** Pixel module attributes needed to unpack native pixel data. */
export interface PixelModule {
  rows: number
  columns: number
  samplesPerPixel: number
  bitsAllocated: 8 | 16
  bitsStored: number
  highBit: number
  signed: boolean
  planarConfiguration: number
  littleEndian: boolean
}

/** Unpacks the first frame of native pixel data (bytes must hold at least one frame). */
export function unpackNativePixels (pm: PixelModule, bytes: Uint8Array): RasterImage {
  const n = pm.rows * pm.columns * pm.samplesPerPixel
  const raw = pm.bitsAllocated === 8 ? new Uint8Array(bytes.subarray(0, n)) : readWords(bytes, n, pm.littleEndian)
  const shift = pm.highBit + 1 - pm.bitsStored
  const mask = 2 ** pm.bitsStored - 1
  const signBit = 2 ** (pm.bitsStored - 1)
  const full = 2 ** pm.bitsStored
  const container = pm.bitsStored <= 8 ? 8 : 16
  const out = container === 8
    ? (pm.signed ? new Int8Array(n) : new Uint8Array(n))
    : (pm.signed ? new Int16Array(n) : new Uint16Array(n))
  for (let i = 0; i < n; i++) {
    let v = (raw[i] >> shift) & mask
    if (pm.signed && v >= signBit) v -= full
    out[i] = v
  }
  const data = pm.samplesPerPixel > 1 && pm.planarConfiguration === 1 ? interleave(out, pm.rows * pm.columns, pm.samplesPerPixel) : out
  return { width: pm.columns, height: pm.rows, components: pm.samplesPerPixel, bitsStored: pm.bitsStored, signed: pm.signed, data }
}

function readWords (bytes: Uint8Array, n: number, littleEndian: boolean): Uint16Array {
  const out = new Uint16Array(n)
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2)
  for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, littleEndian)
  return out
}

/** Planar (RRR..GGG..BBB..) to interleaved (RGBRGB..). */
function interleave<T extends RasterImage['data']> (planar: T, pixels: number, spp: number): T {
  const out = new (planar.constructor as new (n: number) => T)(planar.length)
  for (let s = 0; s < spp; s++) {
    for (let p = 0; p < pixels; p++) out[p * spp + s] = planar[s * pixels + p]
  }
  return out
}
