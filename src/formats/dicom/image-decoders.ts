/**
 * Typed access to the third-party decoders of compressed DICOM frames, all
 * loaded lazily, once per thread:
 * - @cornerstonejs/codec-charls (CharLS, JPEG-LS lossless and near-lossless)
 * - @cornerstonejs/codec-libjpeg-turbo-8bit (libjpeg-turbo, 8-bit JPEG baseline/extended)
 * - @cornerstonejs/codec-openjpeg (OpenJPEG, JPEG 2000)
 * - @cornerstonejs/jpeg-lossless-decoder-js (JPEG lossless processes 14 / SV1; this fork decodes the last pixel of a frame that the original jpeg-lossless-decoder-js 2.1 drops)
 * Each returns the samples as the codestream holds them: interleaved, right-aligned.
 */
import { createRequire } from 'node:module'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'

const require = createRequire(import.meta.url)

/** One decoded codestream, before DICOM pixel-module rules (masking, sign) are applied. */
export interface DecodedFrame {
  width: number
  height: number
  components: number
  /** Sample precision the codestream declares. */
  bitsPerSample: number
  /** Uint8Array when bitsPerSample <= 8, else 16-bit words (signed view when the codestream is signed). */
  data: Uint8Array | Uint16Array | Int16Array
  /** Component order: 'interleaved' (RGBRGB) or 'planar' (RR..GG..BB..). */
  layout: 'interleaved' | 'planar'
  /** True when the decoder converted YCbCr to RGB itself (JPEG colour transform, JPEG 2000 MCT). */
  colorTransformed?: boolean
}

interface FrameInfo { width: number, height: number, bitsPerSample: number, componentCount: number, isSigned?: boolean }
interface EmDecoder {
  getEncodedBuffer: (size: number) => Uint8Array
  getDecodedBuffer: () => Uint8Array
  decode: () => void
  getFrameInfo: () => FrameInfo
  delete: () => void
  getInterleaveMode?: () => number
  getColorSpace?: () => number
}
type Factory = (options: object) => Promise<Record<string, new () => EmDecoder>>

const modules = new Map<string, Promise<Record<string, new () => EmDecoder>>>()

function load (specifier: string): Promise<Record<string, new () => EmDecoder>> {
  let m = modules.get(specifier)
  if (m == null) {
    const factory = require(specifier) as Factory
    // OpenJPEG prints [INFO] lines on stdout: keep them out of the user's terminal.
    m = factory({ print: () => {}, printErr: () => {} })
    m.catch(() => modules.delete(specifier))
    modules.set(specifier, m)
  }
  return m
}

async function runEmscripten (label: string, what: string, specifier: string, className: string, bytes: Uint8Array): Promise<{ info: FrameInfo, data: Uint8Array, interleave?: number }> {
  const mod = await load(specifier)
  let decoder: EmDecoder | undefined
  try {
    decoder = new mod[className]()
    decoder.getEncodedBuffer(bytes.length).set(bytes)
    try {
      decoder.decode()
    } catch (err) {
      if (err instanceof Error && err.name === 'RuntimeError') throw err
      throw new UnsupportedInputError(`${label}: the ${what} decoder refused this frame (${typeof err === 'number' ? `error ${err}` : String(err)})`, { cause: err })
    }
    const info = { ...decoder.getFrameInfo() }
    const data = decoder.getDecodedBuffer().slice()
    return { info, data, interleave: decoder.getInterleaveMode?.() }
  } catch (err) {
    if (err instanceof UnsupportedInputError) throw err
    // a WASM trap (out-of-bounds access, abort) can leave the instance corrupt: never reuse it
    modules.delete(specifier)
    decoder = undefined
    throw new InvalidInputError(`${label}: the ${what} decoder failed on this frame (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}); the compressed data is corrupt`, { cause: err })
  } finally {
    try { decoder?.delete() } catch { /* the instance is discarded anyway */ }
  }
}

function words (bytes: Uint8Array, signed: boolean): Uint16Array | Int16Array {
  const copy = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice()
  return signed ? new Int16Array(copy.buffer, copy.byteOffset, copy.length >> 1) : new Uint16Array(copy.buffer, copy.byteOffset, copy.length >> 1)
}

function toFrame (label: string, what: string, info: FrameInfo, bytes: Uint8Array, layout: 'interleaved' | 'planar', colorTransformed = false): DecodedFrame {
  const { width, height, componentCount: components, bitsPerSample } = info
  const n = width * height * components
  const data = bitsPerSample <= 8 ? bytes : words(bytes, info.isSigned === true)
  if (width === 0 || height === 0 || data.length < n) {
    throw new UnsupportedInputError(`${label}: the ${what} decoder returned ${data.length} samples for a ${width}x${height}x${components} frame`)
  }
  return { width, height, components, bitsPerSample, data: data.subarray(0, n), layout, colorTransformed }
}

/** JPEG-LS (CharLS). Interleave mode 0 (ILV_NONE) comes back planar. */
export async function decodeJpegLs (label: string, bytes: Uint8Array): Promise<DecodedFrame> {
  const { info, data, interleave } = await runEmscripten(label, 'JPEG-LS', '@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder', bytes)
  return toFrame(label, 'JPEG-LS', info, data, info.componentCount > 1 && interleave === 0 ? 'planar' : 'interleaved')
}

/** 8-bit JPEG (libjpeg-turbo); 3-component YCbCr frames come back as RGB. 12-bit JPEG is refused. */
export async function decodeJpeg8 (label: string, bytes: Uint8Array): Promise<DecodedFrame> {
  const precision = jpegPrecision(bytes)
  if (precision != null && precision !== 8) {
    throw new UnsupportedInputError(`${label}: ${precision}-bit JPEG (extended, lossy) cannot be decoded: no maintained ${precision}-bit JPEG decoder is available to mist-p2p; convert the file first, e.g. \`gdcmconv --raw\``)
  }
  const { info, data } = await runEmscripten(label, 'JPEG', '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder', bytes)
  return toFrame(label, 'JPEG', info, data, 'interleaved', info.componentCount === 3 && jpegTransformsColor(bytes))
}

/** JPEG 2000 codestream (OpenJPEG); a multi-component transform (`mct`, from the COD segment) is undone by the decoder. */
export async function decodeJ2k (label: string, codestream: Uint8Array, mct: boolean): Promise<DecodedFrame> {
  const { info, data } = await runEmscripten(label, 'JPEG 2000', '@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder', codestream)
  return toFrame(label, 'JPEG 2000', info, data, 'interleaved', mct && info.componentCount === 3)
}

interface LosslessDecoder { decode: (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBuffer | ArrayBufferView, numComp: number, precision: number, xDim: number, yDim: number }

/** JPEG lossless processes 14 and 14 SV1 (@cornerstonejs/jpeg-lossless-decoder-js). */
export async function decodeJpegLossless (label: string, bytes: Uint8Array): Promise<DecodedFrame> {
  const lib = require('@cornerstonejs/jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }
  const decoder = new lib.Decoder()
  let out: ArrayBuffer | ArrayBufferView
  try {
    out = decoder.decode(bytes.buffer, bytes.byteOffset, bytes.length)
  } catch (err) {
    throw new UnsupportedInputError(`${label}: the JPEG lossless decoder refused this frame (${String(err)})`, { cause: err })
  }
  const info: FrameInfo = { width: decoder.xDim, height: decoder.yDim, componentCount: decoder.numComp, bitsPerSample: decoder.precision }
  // It returns a typed array (8- or 16-bit) over the samples: take its bytes as they are.
  const samples = ArrayBuffer.isView(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(out)
  return toFrame(label, 'JPEG lossless', info, samples, 'interleaved')
}

/** Sample precision from the first SOFn marker of a JPEG stream (undefined when not found). */
export function jpegPrecision (bytes: Uint8Array): number | undefined {
  return sofSegment(bytes)?.precision
}

/** Whether libjpeg converts this 3-component stream from YCbCr: not when an Adobe marker says RGB (transform 0) or the component IDs are 'R','G','B'. */
function jpegTransformsColor (bytes: Uint8Array): boolean {
  const sof = sofSegment(bytes)
  if (sof?.ids.join(',') === '82,71,66') return false
  return sof?.adobeTransform !== 0
}

function sofSegment (bytes: Uint8Array): { precision: number, ids: number[], adobeTransform?: number } | undefined {
  let at = 2
  let adobeTransform: number | undefined
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined
    const marker = bytes[at + 1]
    if (marker === 0xff) { at++; continue }
    const length = (bytes[at + 2] << 8) | bytes[at + 3]
    if (marker === 0xee && length >= 12 && String.fromCharCode(...bytes.subarray(at + 4, at + 9)) === 'Adobe') adobeTransform = bytes[at + 15]
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const count = bytes[at + 9]
      const ids = Array.from({ length: count }, (_, i) => bytes[at + 10 + 3 * i])
      return { precision: bytes[at + 4], ids, adobeTransform }
    }
    at += 2 + length
  }
  return undefined
}
