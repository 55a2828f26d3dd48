/**
 * Hostile codestream headers are refused before OpenJPH sees them (src/codec/header-check.ts).
 * Each case is a minimized input the fuzzer (test/fuzz/fuzz.test.ts, seed 777) found making OpenJPH
 * loop for ever or allocate without bound, rebuilt here from a small synthetic codestream.
 * Decodes go through a CodecPool with a short job time limit: if a check regressed, the case
 * fails with the pool's timeout error instead of hanging the test run.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { parseCodestream } from '../../src/chunker/index.js'
import {
  checkCodestream, CodecPool, decodeHTJ2K, encodeHTJ2K, MAX_CODEBLOCKS, MAX_DECODED_BYTES, MAX_PRECINCTS, MAX_TILES,
  parseMainHeader, synthesizeImage as synth, validateImage
} from '../../src/codec/index.js'
import { CodecError } from '../../src/errors.js'

const pool = new CodecPool({ size: 1, jobTimeoutMs: 20_000 })
afterAll(async () => { await pool.close() })

const base = await encodeHTJ2K(synth(64, 48, 8, false, 1, 3), { decompositions: 3 })
const layout = parseCodestream(base)
/** Offsets of the SOT of every tile-part (one per resolution). */
const sots = [layout.mainHeaderLength, ...layout.levels.slice(0, -1).map((l) => l.end)]
const codAt = parseMainHeader(base).segments.find((s) => s.marker === 0xff52)!.offset

function edit (bytes: Uint8Array, f: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = new Uint8Array(bytes)
  f(new DataView(copy.buffer), copy)
  return copy
}

/** Same codestream with explicit precinct sizes (one byte PPy<<4|PPx per resolution) in COD. */
function withPrecincts (bytes: Uint8Array, pp: number): Uint8Array {
  const D = bytes[codAt + 9]
  const at = codAt + 14
  const out = new Uint8Array(bytes.length + D + 1)
  out.set(bytes.subarray(0, at))
  out.fill(pp, at, at + D + 1)
  out.set(bytes.subarray(at), at + D + 1)
  out[codAt + 4] |= 1 // Scod: precincts defined
  new DataView(out.buffer).setUint16(codAt + 2, 12 + D + 1)
  return out
}

async function refused (bytes: Uint8Array, message: RegExp, reduce = 0): Promise<void> {
  const t0 = performance.now()
  const err = await pool.decode(bytes, { reduce }).then(() => undefined, (e: unknown) => e)
  expect(err, 'decoded instead of being refused').toBeInstanceOf(CodecError)
  expect((err as Error).message).toMatch(message)
  expect(performance.now() - t0, 'refused from the header, at once').toBeLessThan(5000)
  expect(() => checkCodestream(bytes, reduce)).toThrow(message)
}

describe('hostile headers are refused before decoding', () => {
  it('a tile-part length (Psot) near 2^32 (OpenJPH wraps its 32-bit offset and re-reads for ever)', async () => {
    for (const i of [1, sots.length - 1]) {
      for (const psot of [0xffffffff, 0xffffffe3, 0xfffffff6]) {
        await refused(edit(base, (dv) => { dv.setUint32(sots[i] + 6, psot) }), new RegExp(`tile-part at byte ${sots[i]} has length ${psot} but only \\d+ bytes remain`))
      }
    }
  })

  it('any tile-part longer than the bytes present, or shorter than SOT + SOD', async () => {
    const last = sots[sots.length - 1]
    await refused(edit(base, (dv) => { dv.setUint32(last + 6, base.length - last + 1) }), /truncated or corrupt/)
    await refused(base.subarray(0, base.length - 3), /truncated or corrupt/)
    await refused(edit(base, (dv) => { dv.setUint32(sots[1] + 6, 12) }), /too short for SOT and SOD/)
  })

  it('a tile-part of a tile that does not exist (OpenJPH checks Isot > tiles, not >=)', async () => {
    await refused(edit(base, (dv) => { dv.setUint16(sots[1] + 4, 1) }), /belongs to tile 1, the codestream has 1/)
  })

  it('a subsampled component (the decoder pulls more lines than it has, for ever)', async () => {
    await refused(edit(base, (_dv, b) => { b[44] = 3 }), /component 0 is subsampled 1x3/)
    await refused(edit(base, (_dv, b) => { b[43] = 70; b[44] = 188 }), /component 0 is subsampled 70x188/)
  })

  it('an image origin that makes a reduced level smaller than the decoder fills (it pulls lines the level lacks, for ever)', async () => {
    // the fuzzer's retrieve case: 20x20 with YOsiz 16 -> 20x4, whose coarsest level (reduce 5) is 1x0
    const small = await encodeHTJ2K(synth(20, 20, 8, false, 1, 7), { decompositions: 5 })
    const origin = edit(small, (dv) => { dv.setUint32(20, 16) })
    await refused(origin, /at reduce 5 the image origin 0,16 makes the level 1x0, not the 1x1 the decoder fills/, 5)
    expect((await pool.decode(origin, { reduce: 4 })).height).toBe(1) // levels whose size agrees still decode
    // 64x49 from origin 0,3: every reduced level is one row short of ceil(49 / 2^k)
    const shifted = edit(base, (dv) => { dv.setUint32(12, 52); dv.setUint32(20, 3); dv.setUint32(28, 52) })
    expect((await pool.decode(shifted)).height).toBe(49)
    for (const k of [1, 2, 3]) await refused(shifted, new RegExp(`at reduce ${k} the image origin 0,3`), k)
  })

  it('SIZ dimensions beyond 65535 per side or beyond the decoded raster limit', async () => {
    // the fuzzer's case: 2259703908 x 445364363 (OpenJPH allocated 1 GB, then failed after 18 s)
    await refused(edit(base, (dv) => { dv.setUint32(8, 2259703908); dv.setUint32(12, 445364363) }), /the image is 2259703908x445364363: at most 65535 per side/)
    const big = edit(base, (dv) => { dv.setUint32(8, 16384); dv.setUint32(12, 16384); dv.setUint32(24, 16384); dv.setUint32(28, 16384) })
    await refused(big, new RegExp(`16384x16384x1 samples at reduce 0 \\(268435456 bytes\\), more than the ${MAX_DECODED_BYTES}-byte limit`))
    // the header check passes at reduce 1 (8192 x 8192 x 1 byte): the bound is on what is decoded
    expect(checkCodestream(big, 1).decodedBytes).toBe(8192 * 8192)
  })

  it('more tiles, precincts or code-blocks than the stated limits (OpenJPH allocates each, whatever the reduce)', async () => {
    const size = (dv: DataView, w: number, h: number, tile: number): void => { dv.setUint32(8, w); dv.setUint32(12, h); dv.setUint32(24, tile); dv.setUint32(28, tile) }
    // 4096 x 4096 in 17 x 17 tiles: 58081 tiles (OpenJPH trapped after 700 MB)
    await refused(edit(base, (dv) => { size(dv, 4096, 4096, 17) }), new RegExp(`241x241 tiles of 17x17: at most ${MAX_TILES} tiles`))
    // 2 x 2 precincts on 4096 x 4096: 5.6 M precincts (6 s and 1 GB in OpenJPH)
    const tiny = withPrecincts(edit(base, (dv) => { size(dv, 4096, 4096, 4096) }), 0x11)
    await refused(tiny, new RegExp(`more than ${MAX_PRECINCTS} precincts`))
    await refused(tiny, new RegExp(`more than ${MAX_PRECINCTS} precincts`), 3)
    // 4 x 4 code-blocks on 8192 x 8192: 5.6 M code-blocks
    await refused(edit(base, (dv, b) => { size(dv, 8192, 8192, 8192); b[codAt + 10] = 0; b[codAt + 11] = 0 }), new RegExp(`more than ${MAX_CODEBLOCKS} code-blocks`))
    // code-blocks above 4096 samples, precincts of 1 pixel above resolution 0
    await refused(edit(base, (_dv, b) => { b[codAt + 10] = 8; b[codAt + 11] = 8 }), /code-block size 2\^10x2\^10/)
    await refused(withPrecincts(base, 0x00), /precinct size 2\^0x2\^0 at resolution 1/)
  })

  it('segments OpenJPH would read differently: unknown markers, wrong lengths, unsupported features', async () => {
    const insert = (at: number, seg: number[]): Uint8Array => {
      const out = new Uint8Array(base.length + seg.length)
      out.set(base.subarray(0, at)); out.set(seg, at); out.set(base.subarray(at), at + seg.length)
      return out
    }
    await refused(insert(layout.mainHeaderLength, [0xff, 0x30, 0x00, 0x04, 0xff, 0x52]), /unknown marker 0xFF30/)
    await refused(insert(layout.mainHeaderLength, [0xff, 0x5f, 0x00, 0x04, 0x00, 0x00]), /progression order change \(POC\)/)
    await refused(edit(base, (dv) => { dv.setUint16(codAt + 2, 13) }), /COD/)
    await refused(edit(base, (dv) => { dv.setUint16(codAt + 6, 2) }), /2 quality layers/)
    // a COM segment may hold anything: it is skipped by its length, by OpenJPH too
    const com = insert(layout.mainHeaderLength, [0xff, 0x64, 0x00, 0x08, 0x00, 0x01, 0xff, 0x52, 0xff, 0x90])
    expect((await pool.decode(com)).width).toBe(64)
  })
})

describe('what mist-p2p writes passes the check', () => {
  it('every codestream and every resolution prefix, with and without EOC, at every reduce', async () => {
    for (const image of [synth(64, 48, 8, false, 1, 3), synth(513, 257, 16, true, 1, 4), synth(33, 17, 8, false, 3, 6), synth(20, 20, 8, true, 1, 7)]) {
      const cs = await encodeHTJ2K(image)
      const { levels, decompositions: D } = parseCodestream(cs)
      for (let k = 0; k <= D; k++) {
        const prefix = cs.subarray(0, levels[D - k].end)
        const withEoc = new Uint8Array([...prefix, 0xff, 0xd9])
        for (const bytes of [prefix, withEoc]) {
          const h = checkCodestream(bytes, k)
          expect([h.width, h.height, h.tiles, h.tileParts]).toEqual([image.width, image.height, 1, D - k + 1])
          const decoded = await decodeHTJ2K(bytes, { reduce: k })
          expect([decoded.width, decoded.height]).toEqual([Math.ceil(image.width / 2 ** k), Math.ceil(image.height / 2 ** k)])
        }
      }
    }
  })

  it('the encoder refuses an image it would not decode (decoded raster over MAX_DECODED_BYTES)', () => {
    const image = { width: 8193, height: 8192, components: 1, bitsStored: 12, signed: false, data: new Uint16Array(1) }
    expect(() => { validateImage(image) }).toThrow(new RegExp(`decodes to ${8193 * 8192 * 2} bytes, more than the ${MAX_DECODED_BYTES}-byte`))
    // signed 8-bit is stored as signed 9-bit: two bytes per decoded sample
    expect(() => { validateImage({ ...image, width: 8192, bitsStored: 8, signed: true, data: new Int8Array(1) }) }).not.toThrow(/decodes to/)
    expect(() => { validateImage({ ...image, width: 11586, height: 11586, bitsStored: 8, signed: true, data: new Int8Array(1) }) }).toThrow(/decodes to/)
  })
})
