/**
 * src/codec in the calling thread: round trips, layout, determinism, refusals.
 */
import { parseCodestream } from '../../src/chunker/index.js'
import { describe, expect, it } from 'vitest'
import { CodecError } from '../../src/errors.js'
import type { RasterImage, SampleArray } from '../../src/types.js'
import {
  decodeHTJ2K, defaultDecompositions, encodeHTJ2K, parseMainHeader, synthesizeImage, toSampleType
} from '../../src/codec/index.js'
import { CodecModule } from '../../src/codec/codec-module.js'
import { COM } from '../../src/codec/markers.js'
import { wasmFailure } from '../../src/codec/wasm-failure.js'

const synth = synthesizeImage

function bytesOf (a: SampleArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

/** Decoded image (converted back to the original sample type) equals the original, bit for bit. */
function expectSameImage (decoded: RasterImage, original: RasterImage): void {
  const back = toSampleType(decoded, original)
  expect(back.width).toBe(original.width)
  expect(back.height).toBe(original.height)
  expect(back.components).toBe(original.components)
  expect(back.bitsStored).toBe(original.bitsStored)
  expect(back.signed).toBe(original.signed)
  expect(back.data.constructor).toBe(original.data.constructor)
  expect(Buffer.compare(bytesOf(back.data), bytesOf(original.data))).toBe(0)
}

async function expectCodecError (p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(CodecError)
  expect((err as Error).name).toBe('CodecError')
  expect((err as Error).message).toMatch(message)
}

describe('defaultDecompositions', () => {
  it('is never 0: D = 0 is not lossless in OpenJPH 0.31 (the range minimum decodes as the middle value)', async () => {
    expect(defaultDecompositions(1, 1)).toBe(1)
    await expectCodecError(encodeHTJ2K(synth(8, 8, 8, false), { decompositions: 0 }), /decompositions 0 is refused/)
  })

  it.each([
    [1, 1, 1], [64, 64, 1], [65, 1, 1], [1, 65, 1], [128, 128, 1], [129, 3, 2],
    [512, 512, 3], [513, 257, 4], [1760, 2140, 6], [2048, 2048, 5], [65535, 1, 10]
  ])('%i x %i -> %i', (w, h, d) => {
    expect(defaultDecompositions(w, h)).toBe(d)
    expect(Math.ceil(Math.max(w, h) / 2 ** d)).toBeLessThanOrEqual(64)
    if (d > 1) expect(Math.ceil(Math.max(w, h) / 2 ** (d - 1))).toBeGreaterThan(64)
  })
})

describe('lossless round trip', () => {
  const cases: Array<[string, RasterImage]> = [
    ['uint8', synth(300, 200, 8, false)],
    ['uint16 12-bit', synth(320, 240, 12, false)],
    ['uint16 16-bit', synth(256, 256, 16, false)],
    ['int16 CT-like', synth(512, 512, 16, true)],
    ['int16 12-bit signed', synth(200, 100, 12, true)],
    ['signed 8-bit', synth(130, 70, 8, true)],
    ['signed 4-bit', synth(33, 17, 4, true)],
    ['1-bit', synth(100, 90, 1, false)],
    ['8-bit RGB', synth(160, 120, 8, false, 3)],
    ['1x1 uint16', synth(1, 1, 16, false)],
    ['1x1 signed 8-bit', synth(1, 1, 8, true)],
    ['3x1000 uint16 12-bit', synth(3, 1000, 12, false)],
    ['1000x3 int16', synth(1000, 3, 16, true)],
    ['513x257 uint16 12-bit', synth(513, 257, 12, false)],
    ['513x257 RGB', synth(513, 257, 8, false, 3)]
  ]
  it.each(cases)('%s', async (_name, image) => {
    const codestream = await encodeHTJ2K(image)
    expectSameImage(await decodeHTJ2K(codestream), image)
  })

  it('signed 8-bit decodes to Int16Array bitsStored 9 with the same values', async () => {
    const image = synth(40, 30, 8, true)
    const decoded = await decodeHTJ2K(await encodeHTJ2K(image))
    expect(decoded.data).toBeInstanceOf(Int16Array)
    expect(decoded.bitsStored).toBe(9)
    expect(decoded.signed).toBe(true)
    expect(Array.from(decoded.data)).toEqual(Array.from(image.data))
  })

  it('honours an explicit decompositions option (1 and 8)', async () => {
    const image = synth(300, 200, 12, false)
    for (const d of [1, 8]) {
      const codestream = await encodeHTJ2K(image, { decompositions: d })
      expect(parseCodestream(codestream).decompositions).toBe(d)
      expectSameImage(await decodeHTJ2K(codestream), image)
    }
  })
})

describe('extreme sample values survive every supported depth', () => {
  // Checkerboard of the range minimum and maximum plus a ramp: the values most
  // likely to overflow a magnitude-bit budget (that is how D = 0 fails).
  function extremes (width: number, height: number, bits: number, signed: boolean, components: number): RasterImage {
    const base = synth(width, height, bits, signed, components)
    const min = signed ? -(2 ** (bits - 1)) : 0
    const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1
    for (let i = 0; i < base.data.length; i++) {
      const pixel = Math.floor(i / components)
      const x = pixel % width
      const y = Math.floor(pixel / width)
      if (y < height / 2) base.data[i] = (x + y) % 2 === 0 ? min : max
    }
    return base
  }
  const depths: Array<[number, boolean, number]> = []
  for (let bits = 1; bits <= 16; bits++) depths.push([bits, false, 1])
  for (let bits = 1; bits <= 16; bits++) depths.push([bits, true, 1])
  depths.push([8, false, 3], [4, false, 3], [1, false, 3])
  it.each(depths)('%i-bit signed=%s components=%i, decompositions 1..5', async (bits, signed, components) => {
    const image = extremes(37, 23, bits, signed, components)
    for (let d = 1; d <= 5; d++) {
      expectSameImage(await decodeHTJ2K(await encodeHTJ2K(image, { decompositions: d })), image)
    }
  })
})

describe('reduced levels stay in the nominal range', () => {
  it.each<[number, boolean]>([[1, false], [8, false], [12, false], [16, false], [16, true], [8, true]])('%i-bit signed=%s', async (bits, signed) => {
    // Alternating extremes make the 5/3 LL band overshoot; decodeHTJ2K clamps like OpenJPEG.
    const image = synth(100, 90, bits, signed)
    const min = signed ? -(2 ** (bits - 1)) : 0
    const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1
    for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7) % 13 < 6 ? min : ((i * 7) % 13 < 9 ? max : image.data[i])
    const codestream = await encodeHTJ2K(image, { decompositions: 3 })
    for (let k = 1; k <= 3; k++) {
      const reduced = await decodeHTJ2K(codestream, { reduce: k })
      const range = { min: reduced.signed ? -(2 ** (reduced.bitsStored - 1)) : 0, max: reduced.signed ? 2 ** (reduced.bitsStored - 1) - 1 : 2 ** reduced.bitsStored - 1 }
      let lo = Infinity
      let hi = -Infinity
      for (const v of reduced.data) { lo = Math.min(lo, v); hi = Math.max(hi, v) }
      expect(lo).toBeGreaterThanOrEqual(range.min)
      expect(hi).toBeLessThanOrEqual(range.max)
      const back = toSampleType(reduced, image)
      expect(back.data.constructor).toBe(image.data.constructor)
    }
  })
})

describe('codestream layout and determinism', () => {
  it('main header without COM, one tile-part per resolution, TLM consistent, EOC', async () => {
    const image = synth(513, 257, 16, true)
    const codestream = await encodeHTJ2K(image)
    const header = parseMainHeader(codestream)
    expect(header.segments.map((s) => s.marker)).not.toContain(COM)
    // parseCodestream checks TLM against every SOT, one tile-part per resolution in order, and EOC
    const layout = parseCodestream(codestream)
    expect(layout.decompositions).toBe(defaultDecompositions(513, 257))
    expect(layout.levels).toHaveLength(layout.decompositions + 1)
    expect(layout.mainHeaderLength).toBe(header.end)
    expect(layout.length).toBe(codestream.length)
    expect([codestream[codestream.length - 2], codestream[codestream.length - 1]]).toEqual([0xff, 0xd9])
    // Tile-parts are ordered coarsest first: each one makes the previous level 4x bigger.
    const sizes = layout.levels.map((l, k) => l.end - (k === 0 ? layout.mainHeaderLength : layout.levels[k - 1].end))
    expect(sizes[sizes.length - 1]).toBeGreaterThan(sizes[0])
  })

  it('same pixels and options give the same bytes', async () => {
    const a = await encodeHTJ2K(synth(257, 129, 12, false, 1, 7))
    const b = await encodeHTJ2K(synth(257, 129, 12, false, 1, 7))
    expect(Buffer.compare(a, b)).toBe(0)
    const c = await encodeHTJ2K(synth(257, 129, 12, false, 1, 8))
    expect(Buffer.compare(a, c)).not.toBe(0)
  })

  it('decode at reduce k gives ceil(w/2^k) x ceil(h/2^k), and a resolution prefix decodes identically', async () => {
    const image = synth(513, 257, 16, true)
    const codestream = await encodeHTJ2K(image)
    const { levels, decompositions: D } = parseCodestream(codestream)
    for (let k = 0; k <= D; k++) {
      const full = await decodeHTJ2K(codestream, { reduce: k })
      expect([full.width, full.height]).toEqual([Math.ceil(513 / 2 ** k), Math.ceil(257 / 2 ** k)])
      expect(full.data.length).toBe(full.width * full.height)
      const prefix = codestream.subarray(0, levels[D - k].end)
      const partial = await decodeHTJ2K(prefix, { reduce: k })
      expect(Buffer.compare(bytesOf(partial.data), bytesOf(full.data))).toBe(0)
    }
  })
})

describe('refusals', () => {
  const ok = synth(8, 8, 12, false)
  it.each<[string, RasterImage, RegExp]>([
    ['17-bit', { ...ok, bitsStored: 17 }, /at most 16 bits/],
    ['32-bit', { ...ok, bitsStored: 32 }, /at most 16 bits/],
    ['12-bit RGB', { ...synth(8, 8, 12, false, 3) }, /multi-component.*at most 8 bits/],
    ['2 components', { ...ok, components: 2, data: new Uint16Array(128) }, /only 1 \(grayscale\) or 3 \(RGB\)/],
    ['4 components', { ...ok, components: 4, data: new Uint16Array(256) }, /only 1 \(grayscale\) or 3 \(RGB\)/],
    ['value above range', { ...ok, data: Uint16Array.from({ length: 64 }, (_, i) => i === 5 ? 5000 : 1) }, /span \[1, 5000\].*allows only \[0, 4095\]/],
    ['negative unsigned', { ...ok, bitsStored: 12, data: Int16Array.from({ length: 64 }, (_, i) => i === 5 ? -3 : 1) }, /span \[-3, 1\].*allows only \[0, 4095\]/],
    ['signed out of range', { ...ok, signed: true, data: Int16Array.from({ length: 64 }, (_, i) => i === 5 ? -3000 : 1) }, /span \[-3000, 1\].*allows only \[-2048, 2047\]/],
    ['8-bit value too big for 7 bits', { ...synth(8, 8, 8, false), bitsStored: 7 }, /allows only \[0, 127\]/],
    ['short data', { ...ok, data: new Uint16Array(63) }, /63 samples, expected width\*height\*components = 64/],
    ['width 0', { ...ok, width: 0, data: new Uint16Array(0) }, /1\.\.65535/],
    ['width 65536', { ...ok, width: 65536, height: 1, data: new Uint16Array(65536) }, /1\.\.65535/],
    ['bitsStored 0', { ...ok, bitsStored: 0 }, /integer in 1\.\.16/],
    ['float data', { ...ok, data: new Float32Array(64) as unknown as Uint16Array }, /Uint8Array, Int8Array, Uint16Array or Int16Array/]
  ])('%s', async (_name, image, message) => {
    await expectCodecError(encodeHTJ2K(image), message)
  })

  it('decompositions outside 0..32', async () => {
    await expectCodecError(encodeHTJ2K(ok, { decompositions: 33 }), /1\.\.32/)
    await expectCodecError(encodeHTJ2K(ok, { decompositions: -1 }), /1\.\.32/)
    await expectCodecError(encodeHTJ2K(ok, { decompositions: 1.5 }), /1\.\.32/)
  })

  it('garbage, empty and over-reduced codestreams', async () => {
    await expectCodecError(decodeHTJ2K(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), /invalid HTJ2K codestream header/)
    await expectCodecError(decodeHTJ2K(new Uint8Array(0)), /non-empty/)
    const codestream = await encodeHTJ2K(synth(300, 200, 12, false))
    await expectCodecError(decodeHTJ2K(codestream, { reduce: 4 }), /only 3 decomposition levels/)
    await expectCodecError(decodeHTJ2K(codestream, { reduce: -1 }), /non-negative integer/)
  })

  it('an OpenJPH exception (bare number) becomes a CodecError with the printErr text', async () => {
    const codec = await CodecModule.create()
    const encoder = new codec.wasm.HTJ2KEncoder()
    let caught: unknown
    try {
      encoder.getDecodedBuffer({ width: 4, height: 4, bitsPerSample: 8, componentCount: 1, isSigned: false, isUsingColorTransform: false })
      encoder.setDecompositions(40)
      encoder.encode()
    } catch (err) {
      caught = err
    } finally {
      encoder.delete()
    }
    expect(typeof caught).toBe('number')
    const error = wasmFailure(codec, caught, 'encoding a test image')
    expect(error).toBeInstanceOf(CodecError)
    expect(error.message).toMatch(/OpenJPH failed encoding a test image: .*decompositions cannot exceed 32/)
    expect(codec.dead).toBe(false)
  })

  it('toSampleType clamps a small overshoot and refuses what cannot come from the original', () => {
    const image: RasterImage = { width: 2, height: 1, components: 1, bitsStored: 9, signed: true, data: new Int16Array([-200, 5]) }
    const back = toSampleType(image, { bitsStored: 8, signed: true })
    expect(back.data).toBeInstanceOf(Int8Array)
    expect(Array.from(back.data)).toEqual([-128, 5])
    expect(toSampleType(image, { bitsStored: 9, signed: true })).toBe(image)
    expect(() => toSampleType(image, { bitsStored: 8, signed: false })).toThrow(CodecError)
    const twelve: RasterImage = { width: 1, height: 1, components: 1, bitsStored: 12, signed: false, data: new Uint16Array([4000]) }
    expect(() => toSampleType(twelve, { bitsStored: 8, signed: false })).toThrow(/not encoded from such an image/)
  })
})
