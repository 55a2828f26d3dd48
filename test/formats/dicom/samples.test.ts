/**
 * The DICOM sample rules (mask above BitsStored, HighBit shift, sign extension) and word reading
 * against a direct statement of the rules, on random frames: the typed fast paths give the same
 * samples as the rule for every BitsStored, shift, sign and byte order.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeSamples, readWords } from '../../../src/formats/dicom/pixels.js'

function reference (raw: ArrayLike<number>, n: number, bitsStored: number, signed: boolean, shift: number): number[] {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    let v = Math.floor(raw[i] / 2 ** shift) % 2 ** bitsStored
    if (signed && v >= 2 ** (bitsStored - 1)) v -= 2 ** bitsStored
    out.push(v)
  }
  return out
}

describe('DICOM samples', () => {
  it('normalizeSamples follows the rule for 16-bit words, every BitsStored, shift and sign', () => {
    fc.assert(fc.property(
      fc.integer({ min: 9, max: 16 }).chain(bits => fc.record({
        bits: fc.constant(bits),
        shift: fc.integer({ min: 0, max: 16 - bits }),
        signed: fc.boolean(),
        words: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 300 })
      })),
      ({ bits, shift, signed, words }) => {
        const raw = Uint16Array.from(words)
        const got = normalizeSamples(raw, raw.length, bits, signed, shift)
        expect(got).toBeInstanceOf(signed ? Int16Array : Uint16Array)
        expect([...got]).toEqual(reference(raw, raw.length, bits, signed, shift))
        // plain arrays (other decoders' output) take the general path to the same result
        expect([...normalizeSamples(words, words.length, bits, signed, shift)]).toEqual([...got])
      }), { numRuns: 300 })
  })

  it('normalizeSamples keeps 8-bit samples in 8-bit arrays', () => {
    const raw = Uint8Array.from([0, 1, 127, 128, 255])
    expect(normalizeSamples(raw, 5, 8, true)).toEqual(Int8Array.from([0, 1, 127, -128, -1]))
    expect(normalizeSamples(raw, 5, 7, false)).toEqual(Uint8Array.from([0, 1, 127, 0, 127]))
  })

  it('readWords reads either byte order from any offset, and refuses a short frame', () => {
    const bytes = Uint8Array.from([9, 0x34, 0x12, 0xcd, 0xab])
    expect([...readWords(bytes.subarray(1), 2, true)]).toEqual([0x1234, 0xabcd])
    expect([...readWords(bytes.subarray(1), 2, false)]).toEqual([0x3412, 0xcdab])
    expect(() => readWords(bytes.subarray(1), 3, true)).toThrow(RangeError)
  })
})
