/**
 * DICOM pixel module attributes, native pixel data cut into raw frames (byte
 * order, planar layout, YBR_FULL_422 upsampling) and the sample rules every
 * frame goes through: bits above BitsStored masked off (HighBit honoured),
 * sign extension from BitsStored.
 */
import type { RasterImage, SampleArray } from '../../types.js'
import { upsampleYbr422 } from './color.js'
import type { RawFrame } from './frame.js'

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
  /** BitsAllocated 1: frames are bit-packed (least significant bit first, frames not byte-aligned); bitsAllocated is then 8 for the unpacked samples. */
  packed1?: boolean
}

/** Frame i of bit-packed 1-bit pixel data, one 0/1 byte per pixel; undefined if the data is too short. */
export function unpackBits (bytes: Uint8Array, pixels: number, i: number): Uint8Array | undefined {
  const start = i * pixels
  if (Math.ceil((start + pixels) / 8) > bytes.length) return undefined
  const out = new Uint8Array(pixels)
  for (let p = 0; p < pixels; p++) {
    const bit = start + p
    out[p] = (bytes[bit >> 3] >> (bit & 7)) & 1
  }
  return out
}

/**
 * One frame of native pixel data as a RawFrame (bytes must hold at least one
 * frame): words in the file's byte order, planar or interleaved as declared;
 * YBR_FULL_422 (two bytes per pixel) upsampled to three.
 */
export function nativeRawFrame (label: string, pm: PixelModule, photometric: string, bytes: Uint8Array): RawFrame {
  const base = { width: pm.columns, height: pm.rows, components: pm.samplesPerPixel, shift: pm.highBit + 1 - pm.bitsStored, colorTransformed: false }
  if (photometric === 'YBR_FULL_422' && pm.samplesPerPixel === 3 && pm.bitsAllocated === 8) {
    return { ...base, data: upsampleYbr422(label, bytes, pm.rows, pm.columns), layout: 'interleaved' }
  }
  const n = pm.rows * pm.columns * pm.samplesPerPixel
  const data = pm.bitsAllocated === 8 ? bytes.subarray(0, n) : readWords(bytes, n, pm.littleEndian)
  return { ...base, data, layout: pm.samplesPerPixel > 1 && pm.planarConfiguration === 1 ? 'planar' : 'interleaved' }
}

/** Bytes of one native frame (YBR_FULL_422 stores 2 samples per pixel, not 3). */
export function nativeFrameBytes (pm: PixelModule, photometric: string): number {
  const samples = photometric === 'YBR_FULL_422' && pm.samplesPerPixel === 3 ? 2 : pm.samplesPerPixel
  return pm.rows * pm.columns * samples * pm.bitsAllocated / 8
}

/**
 * Samples of a frame as RasterImage data: each value shifted right by `shift`,
 * masked to bitsStored and sign-extended when signed, in the smallest
 * container (8-bit arrays up to 8 bits stored, 16-bit arrays above).
 */
export function normalizeSamples (raw: ArrayLike<number>, n: number, bitsStored: number, signed: boolean, shift = 0): SampleArray {
  const mask = 2 ** bitsStored - 1
  const signBit = 2 ** (bitsStored - 1)
  const full = 2 ** bitsStored
  const out = bitsStored <= 8
    ? (signed ? new Int8Array(n) : new Uint8Array(n))
    : (signed ? new Int16Array(n) : new Uint16Array(n))
  for (let i = 0; i < n; i++) {
    let v = (raw[i] >> shift) & mask
    if (signed && v >= signBit) v -= full
    out[i] = v
  }
  return out
}

function readWords (bytes: Uint8Array, n: number, littleEndian: boolean): Uint16Array {
  const out = new Uint16Array(n)
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2)
  for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * i, littleEndian)
  return out
}

/** Planar (RRR..GGG..BBB..) to interleaved (RGBRGB..). */
export function interleave<T extends RasterImage['data']> (planar: T, pixels: number, spp: number): T {
  const out = new (planar.constructor as new (n: number) => T)(planar.length)
  for (let s = 0; s < spp; s++) {
    for (let p = 0; p < pixels; p++) out[p * spp + s] = planar[s * pixels + p]
  }
  return out
}
