/**
 * A bounds-checked big-endian reader over a codestream. Every read past the end
 * throws a CodestreamError naming the codestream, so a truncated or corrupt
 * length can never read garbage or go out of range silently.
 */
import { CodestreamError } from '../errors.js'

export class ByteReader {
  private readonly view: DataView

  constructor (readonly bytes: Uint8Array, readonly name: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get length (): number {
    return this.bytes.byteLength
  }

  /** Throws unless [offset, offset + size) lies inside the bytes. */
  need (offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw new CodestreamError(`${this.name}: truncated codestream: ${what} needs bytes ${offset}..${offset + size} but the codestream has ${this.bytes.byteLength} bytes`)
    }
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
