/**
 * Rules of the codec's header check (src/codec/header-check.ts) that test/codec/hostile.test.ts
 * does not reach, checked on the header alone (no decode): they guard the restructuring of the
 * check onto src/j2k against a rule lost on the way.
 */
import { describe, expect, it } from 'vitest'
import { checkCodestream, encodeHTJ2K, parseMainHeader, synthesizeImage } from '../../src/codec/index.js'
import { CodecError } from '../../src/errors.js'

const base = await encodeHTJ2K(synthesizeImage(64, 48, 8, false, 1, 3), { decompositions: 3 })

function edit (f: (dv: DataView) => void): Uint8Array {
  const copy = new Uint8Array(base)
  f(new DataView(copy.buffer))
  return copy
}

describe('checkCodestream', () => {
  it('passes the unmodified codestream', () => {
    expect(checkCodestream(base, 0)).toMatchObject({ width: 64, height: 48, tiles: 1, tileParts: 4 })
  })

  it('refuses tiles that end beyond 2^32 on the reference grid (OpenJPH computes positions in 32 bits)', () => {
    // origin 1,0; one tile of 2^32 - 1 columns from XTOsiz 1: it ends at 2^32
    const far = edit((dv) => { dv.setUint32(8, 65); dv.setUint32(16, 1); dv.setUint32(24, 0xffffffff); dv.setUint32(32, 1) })
    expect(() => checkCodestream(far, 0)).toThrow(CodecError)
    expect(() => checkCodestream(far, 0)).toThrow(/tiles of 4294967295x48 from 1,0 end beyond 2\^32/)
  })

  it('a codestream cut inside an SOT is refused by its tile-part length, before TPsot is read', () => {
    const sot = parseMainHeader(base).end // the first SOT
    expect(() => checkCodestream(base.subarray(0, sot + 11), 0)).toThrow(new RegExp(`tile-part at byte ${sot} has length \\d+ but only 11 bytes remain: truncated or corrupt`))
  })
})
