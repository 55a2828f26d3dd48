/**
 * NumPy .npy v1.0 writer for ML users: little-endian, the sample dtype of the
 * source (u1, i1, <u2, <i2, <i4, <u4, <f4, <f8; RGB as a trailing axis of 3), C order: an image
 * is (rows, columns[, 3]), a volume (slices, rows, columns[, 3]).
 */
import { InvalidInputError } from '../errors.js'
import type { SourceArray } from './value-map.js'

const DESCR: Record<string, string> = { Uint8Array: '|u1', Int8Array: '|i1', Uint16Array: '<u2', Int16Array: '<i2', Int32Array: '<i4', Uint32Array: '<u4', Float32Array: '<f4', Float64Array: '<f8' }

/** A 2D array of samples: a RasterImage, or values restored to a wider source dtype. */
export interface NpySlice { width: number, height: number, components: number, data: SourceArray }

/** Encodes one image, or the slices of a volume (all the same size and type), as .npy bytes. */
export function encodeNpy (input: NpySlice | NpySlice[]): Uint8Array {
  const slices = Array.isArray(input) ? input : [input]
  if (slices.length === 0) throw new InvalidInputError('encodeNpy: no slice given')
  const first = slices[0]
  const descr = DESCR[first.data.constructor.name]
  if (descr == null) throw new InvalidInputError(`encodeNpy: unsupported sample array ${first.data.constructor.name}`)
  for (const [z, s] of slices.entries()) {
    if (s.width !== first.width || s.height !== first.height || s.components !== first.components || s.data.constructor !== first.data.constructor || s.data.length !== s.width * s.height * s.components) {
      throw new InvalidInputError(`encodeNpy: slice ${z} does not match slice 0 (${first.width}x${first.height}x${first.components} ${first.data.constructor.name})`)
    }
  }
  const shape = [...(Array.isArray(input) ? [slices.length] : []), first.height, first.width, ...(first.components > 1 ? [first.components] : [])]
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const unpadded = 10 + dict.length + 1
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const header = Buffer.from(dict, 'latin1')
  const sliceBytes = first.data.byteLength
  const out = new Uint8Array(10 + header.length + sliceBytes * slices.length)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8])
  out.set(header, 10)
  // Typed arrays are little endian on every platform Node supports in practice.
  slices.forEach((s, z) => out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength), 10 + header.length + z * sliceBytes))
  return out
}
