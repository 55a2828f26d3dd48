/**
 * A bounds-checked big-endian reader over a codestream. A read past the end
 * never returns garbage or undefined: it throws, by default a CodestreamError
 * naming the codestream, the field and the offsets. A consumer whose refusals
 * are another error class (the codec's header check, the level header check)
 * passes its own `truncated`, so the error class stays what its callers expect.
 */
import { CodestreamError } from '../errors.js'

/** Called instead of reading [offset, offset + size) past the `length` bytes present; must throw. */
export type Truncated = (offset: number, size: number, what: string, length: number) => never

export class ByteReader {
  private readonly view: DataView
  private readonly truncated: Truncated

  /**
   * @param name names the codestream (a file name or CID) in the default error.
   * @param truncated replaces the default CodestreamError.
   */
  constructor (readonly bytes: Uint8Array, readonly name = 'codestream', truncated?: Truncated) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.truncated = truncated ?? ((offset, size, what, length) => {
      throw new CodestreamError(`${name}: truncated codestream: ${what} needs bytes ${offset}..${offset + size} but the codestream has ${length} bytes`)
    })
  }

  get length (): number {
    return this.bytes.byteLength
  }

  /** Throws unless [offset, offset + size) lies inside the bytes. */
  need (offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.byteLength) this.truncated(offset, size, what, this.bytes.byteLength)
  }

  u8 (offset: number, what: string): number {
    this.need(offset, 1, what)
    return this.view.getUint8(offset)
  }

  u16 (offset: number, what: string): number {
    this.need(offset, 2, what)
    return this.view.getUint16(offset)
  }

  u32 (offset: number, what: string): number {
    this.need(offset, 4, what)
    return this.view.getUint32(offset)
  }
}
