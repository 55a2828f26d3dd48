/**
 * The bounded reader of src/j2k: big-endian reads, and a read past the end
 * throws (a CodestreamError naming the codestream, field and offsets by
 * default, or the consumer's own error) instead of returning garbage.
 */
import { describe, expect, it } from 'vitest'
import { CodecError, CodestreamError } from '../../src/errors.js'
import { ByteReader, parseMainHeader, readSiz } from '../../src/j2k/index.js'

function errorOf (f: () => unknown): Error {
  try { f() } catch (err) { return err as Error }
  throw new Error('expected a throw')
}

describe('ByteReader', () => {
  const bytes = Uint8Array.from([0xff, 0x4f, 0xff, 0x51, 0x12, 0x34, 0x56, 0x78, 0x9a])

  it('reads big-endian u8, u16, u32 at any offset, also of a subarray', () => {
    const r = new ByteReader(bytes, 'a.j2c')
    expect([r.u8(0, 'x'), r.u16(0, 'x'), r.u16(2, 'x'), r.u32(4, 'x'), r.u32(5, 'x'), r.length]).toEqual([0xff, 0xff4f, 0xff51, 0x12345678, 0x3456789a, 9])
    const sub = new ByteReader(bytes.subarray(4, 8), 'sub')
    expect(sub.u32(0, 'x')).toBe(0x12345678)
    expect(() => sub.u8(4, 'past the subarray')).toThrow(CodestreamError)
  })

  it('a truncated field throws CodestreamError naming the codestream, the field and the offsets', () => {
    const r = new ByteReader(bytes, 'cut.j2c')
    const err = errorOf(() => r.u32(6, 'Psot'))
    expect(err).toBeInstanceOf(CodestreamError)
    expect(err.name).toBe('CodestreamError')
    expect(err.message).toBe('cut.j2c: truncated codestream: Psot needs bytes 6..10 but the codestream has 9 bytes')
    expect(errorOf(() => r.u8(9, 'TPsot')).message).toMatch(/TPsot needs bytes 9\.\.10 but the codestream has 9 bytes/)
    expect(() => r.u16(-1, 'before the start')).toThrow(CodestreamError)
    expect(() => { r.need(2, 8, 'SIZ segment') }).toThrow(/SIZ segment needs bytes 2\.\.10/)
    expect(() => { r.need(2, 7, 'SIZ segment') }).not.toThrow()
  })

  it("a consumer's own refusal replaces the default error (the class its callers expect)", () => {
    const r = new ByteReader(bytes, 'x', (at, size, what, length) => { throw new CodecError(`${what} at ${at}+${size} of ${length}`) })
    const err = errorOf(() => r.u16(8, 'Lsot'))
    expect(err).toBeInstanceOf(CodecError)
    expect(err.message).toBe('Lsot at 8+2 of 9')
  })

  it('a truncated SIZ throws at the first field that is cut, naming its offset', () => {
    const siz = Uint8Array.from([0xff, 0x4f, 0xff, 0x51, 0x00, 0x29, 0x40, 0x00, 0x00, 0x00, 0x01])
    const err = errorOf(() => readSiz(new ByteReader(siz, 'short.j2c')))
    expect(err).toBeInstanceOf(CodestreamError)
    expect(err.message).toBe('short.j2c: truncated codestream: Xsiz needs bytes 8..12 but the codestream has 11 bytes')
  })

  it('parseMainHeader refuses a segment whose length runs past the end, naming its offset', () => {
    // SOC, then a COM segment claiming 0x20 bytes where 4 remain
    const cut = Uint8Array.from([0xff, 0x4f, 0xff, 0x64, 0x00, 0x20, 0x00, 0x01])
    const err = errorOf(() => parseMainHeader(cut))
    expect(err).toBeInstanceOf(CodestreamError)
    expect(err.message).toBe('malformed main header: segment FF64 at offset 2 has length 32 past the end')
    expect(errorOf(() => parseMainHeader(cut.subarray(0, 5))).message).toBe('codestream truncated: needed 2 bytes at offset 4, have 5')
  })
})
