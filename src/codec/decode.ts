/**
 * HTJ2K decoding on a given CodecModule, with the WASM decoder's silent
 * failures turned into CodecError.
 *
 * Returned sample types: bitsStored <= 8 unsigned -> Uint8Array; 9..16 bits ->
 * Uint16Array or Int16Array.
 *
 * At reduce > 0 the samples are the integer 5/3 LL band, which can overshoot
 * the nominal range a little at sharp edges (a 1-bit image gives 2). OpenJPH
 * passes such values through, OpenJPEG clamps them: we clamp to the range of
 * bitsStored, so every decoder gives the same pixels and every returned
 * sample is valid for its bitsStored. Images that were signed <= 8-bit when encoded by
 * mist-p2p come back as Int16Array with bitsStored 9 (see container.ts and
 * toSampleType()).
 */
import os from 'node:os'
import { CodecError } from '../errors.js'
import type { RasterImage, SampleArray } from '../types.js'
import type { CodecModule } from './codec-module.js'
import { checkCodestream } from './header-check.js'
import type { DecodeOptions } from './options.js'
import { MAX_BITS, MAX_DECODED_BYTES, sampleRange } from './validate.js'
import { wasmFailure } from './wasm-failure.js'

const LITTLE_ENDIAN = os.endianness() === 'LE'

/** Decode `codestream` (a full codestream or a resolution prefix) at `options.reduce` discarded levels. */
export function decodeWith (codec: CodecModule, codestream: Uint8Array, options: DecodeOptions = {}): RasterImage {
  if (!(codestream instanceof Uint8Array) || codestream.length === 0) {
    throw new CodecError('cannot decode: the codestream must be a non-empty Uint8Array')
  }
  const reduce = options.reduce ?? 0
  if (!Number.isInteger(reduce) || reduce < 0) {
    throw new CodecError(`cannot decode: reduce must be a non-negative integer, got ${reduce}`)
  }
  // before OpenJPH sees a byte: it loops or allocates without bound on some hostile headers
  checkCodestream(codestream, reduce)
  codec.clearLog()
  const decoder = new codec.wasm.HTJ2KDecoder()
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream)
    decoder.readHeader()
    const info = decoder.getFrameInfo()
    if (!decoder.getIsHeaderValid() || info.width === 0 || info.height === 0) {
      throw new CodecError(`cannot decode: invalid HTJ2K codestream header (${reason(codec, decoder.getLastErrorMessage())})`)
    }
    const { bitsPerSample: bits, componentCount: components, isSigned: signed } = info
    if (bits < 1 || bits > MAX_BITS) {
      throw new CodecError(`cannot decode ${bits}-bit codestream: this release handles at most ${MAX_BITS} bits per sample`)
    }
    if (components !== 1 && components !== 3) {
      throw new CodecError(`cannot decode codestream with ${components} components: only 1 or 3 are supported`)
    }
    if (components > 1 && bits > 8) {
      throw new CodecError(`cannot decode ${components}-component ${bits}-bit codestream: multi-component images must be at most 8 bits per sample in this release`)
    }
    if (signed && bits <= 8) {
      throw new CodecError(`cannot decode signed ${bits}-bit codestream: the WASM codec mishandles signed samples of 8 bits or less (mist-p2p stores them as signed 9-bit)`)
    }
    const levels = decoder.getNumDecompositions()
    if (reduce > levels) {
      throw new CodecError(`cannot decode at reduce ${reduce}: the codestream has only ${levels} decomposition levels (reduce 0..${levels})`)
    }
    const size = decoder.calculateSizeAtDecompositionLevel(reduce)
    const claimed = size.width * size.height * components * (bits <= 8 ? 1 : 2)
    if (claimed > MAX_DECODED_BYTES) {
      throw new CodecError(`cannot decode: the header claims ${size.width}x${size.height}x${components} samples (${claimed} bytes), more than the ${MAX_DECODED_BYTES}-byte limit; the codestream is corrupt or not meant for mist-p2p`)
    }
    if (reduce === 0) decoder.decode()
    else decoder.decodeSubResolution(reduce)
    const bytes = decoder.getDecodedBuffer().slice() // copy at once: heap views move when memory grows
    const bytesPerSample = bits <= 8 ? 1 : 2
    const expected = size.width * size.height * components * bytesPerSample
    if (bytes.length !== expected || /decode failed/.test(codec.logText())) {
      throw new CodecError(`cannot decode: OpenJPH returned ${bytes.length} bytes, expected ${expected} for ${size.width}x${size.height}x${components} (${reason(codec, decoder.getLastErrorMessage())})`)
    }
    const data = samples(bytes, bits, signed)
    if (reduce > 0) clampToRange(data, bits, signed)
    return { width: size.width, height: size.height, components, bitsStored: bits, signed, data }
  } catch (err) {
    throw wasmFailure(codec, err, `decoding a ${codestream.length}-byte codestream`)
  } finally {
    decoder.delete()
  }
}

function reason (codec: CodecModule, last: string): string {
  const text = codec.logText()
  return text !== '' ? text : (last !== '' ? last : 'no message from OpenJPH')
}

/** View freshly copied little-endian bytes as the natural sample array. */
function samples (bytes: Uint8Array, bits: number, signed: boolean): SampleArray {
  if (bits <= 8) return bytes
  const n = bytes.length / 2
  if (LITTLE_ENDIAN) {
    return signed ? new Int16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.buffer, bytes.byteOffset, n)
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = signed ? new Int16Array(n) : new Uint16Array(n)
  for (let i = 0; i < n; i++) out[i] = signed ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true)
  return out
}

/** Clamp every sample into the nominal range of `bits` (in place). */
function clampToRange (data: SampleArray, bits: number, signed: boolean): void {
  const { min, max } = sampleRange(bits, signed)
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (v < min) data[i] = min
    else if (v > max) data[i] = max
  }
}
