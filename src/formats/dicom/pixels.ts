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
  if (bitsStored <= 8) return normalizeLoop(raw, signed ? new Int8Array(n) : new Uint8Array(n), n, bitsStored, signed, shift)
  if (bitsStored === 16 && shift === 0 && raw instanceof Uint16Array) {
    // nothing to mask or extend: the same 16 bits, read as signed or not (a copy: raw may be a view of the file)
    const out = signed ? new Int16Array(n) : new Uint16Array(n)
    new Uint16Array(out.buffer).set(raw.subarray(0, n))
    return out
  }
  if (raw instanceof Uint16Array) return signed ? normalizeWords(raw, new Int16Array(n), n, bitsStored, true, shift) : normalizeWords(raw, new Uint16Array(n), n, bitsStored, false, shift)
  return normalizeLoop(raw, signed ? new Int16Array(n) : new Uint16Array(n), n, bitsStored, signed, shift)
}

function normalizeLoop<T extends SampleArray> (raw: ArrayLike<number>, out: T, n: number, bitsStored: number, signed: boolean, shift: number): T {
  const mask = 2 ** bitsStored - 1
  const signBit = 2 ** (bitsStored - 1)
  const full = 2 ** bitsStored
  for (let i = 0; i < n; i++) {
    let v = (raw[i] >> shift) & mask
    if (signed && v >= signBit) v -= full
    out[i] = v
  }
  return out
}

/** The 16-bit case with one array type in and one out: the hot loop of a DICOM CT or MR series. */
function normalizeWords<T extends Int16Array | Uint16Array> (raw: Uint16Array, out: T, n: number, bitsStored: number, signed: boolean, shift: number): T {
  const mask = 2 ** bitsStored - 1
  if (!signed) {
    for (let i = 0; i < n; i++) out[i] = (raw[i] >> shift) & mask
    return out
  }
  // sign extension from bitsStored: the sign bit moved to bit 31 and back
  const up = 32 - bitsStored
  for (let i = 0; i < n; i++) out[i] = (((raw[i] >> shift) & mask) << up) >> up
  return out
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export function readWords (bytes: Uint8Array, n: number, littleEndian: boolean): Uint16Array {
  if (bytes.length < n * 2) throw new RangeError(`native pixel data holds ${bytes.length} bytes, a frame needs ${n * 2}`)
  const out = new Uint16Array(n)
  // one copy of the bytes, swapped only when the file's byte order is not the host's
  new Uint8Array(out.buffer).set(bytes.subarray(0, n * 2))
  if (littleEndian !== HOST_LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) { const v = out[i]; out[i] = ((v & 0xff) << 8) | (v >> 8) }
  }
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
