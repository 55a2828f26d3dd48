/** The DICOM reader's JPEG 2000 frame unwrapping (src/formats/dicom/j2k-codestream.ts) on hostile frames. */
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/errors.js'
import { bareCodestream, j2kCoding } from '../../../src/formats/dicom/j2k-codestream.js'

describe('bareCodestream / j2kCoding', () => {
  it('a JP2 box whose 64-bit length (XLBox) is cut off is refused with InvalidInputError, not a RangeError', () => {
    const frame = Uint8Array.from([0, 0, 0, 1, 0x6a, 0x50, 0x20, 0x20, 0, 0, 0, 0])
    expect(() => bareCodestream('cut.dcm', frame)).toThrow(InvalidInputError)
    expect(() => bareCodestream('cut.dcm', frame)).toThrow(/cut\.dcm: JPEG 2000 frame is neither a codestream/)
  })
  it('a codestream frame is returned as is; a corrupt one is refused by j2kCoding with InvalidInputError', () => {
    const cs = Uint8Array.from([0xff, 0x4f, 0xff, 0x51, 0x00, 0x40])
    expect(bareCodestream('f', cs)).toBe(cs)
    expect(() => j2kCoding('f', cs)).toThrow(InvalidInputError)
    expect(() => j2kCoding('f', cs)).toThrow(/f: corrupt JPEG 2000 codestream: malformed main header: segment FF51 at offset 2 has length 64 past the end/)
  })
})
