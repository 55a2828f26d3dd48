/**
 * NumPy .npy v1.0 writer for ML users: little-endian, the sample dtype of the
 * source (u1, i1, <u2, <i2, <i4, <u4, <f4, <f8; RGB as a trailing axis of 3), C order: an image
 * is (rows, columns[, 3]), a volume (slices, rows, columns[, 3]).
 */
import { InvalidInputError } from '../../errors.js'
import type { RasterImage, VolumeMeta } from '../../types.js'
import { writeStreamAtomic, type AtomicWriteOptions } from '../../util/atomic-write.js'
import { streamOutputValues } from '../output-values.js'
import type { SourceArray } from '../value-map.js'

const DESCR: Record<string, string> = { Uint8Array: '|u1', Int8Array: '|i1', Uint16Array: '<u2', Int16Array: '<i2', Int32Array: '<i4', Uint32Array: '<u4', Float32Array: '<f4', Float64Array: '<f8' }

/** A 2D array of samples: a RasterImage, or values restored to a wider source dtype. */
export interface NpySlice { width: number, height: number, components: number, data: SourceArray }

/** The .npy preamble and header dict for samples of `descr` in this shape, padded to a multiple of 64 bytes. */
function npyHeader (descr: string, shape: number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const unpadded = 10 + dict.length + 1
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const header = Buffer.from(dict, 'latin1')
  const out = new Uint8Array(10 + header.length)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8])
  out.set(header, 10)
  return out
}

function descrOf (s: NpySlice, what: string): string {
  const descr = DESCR[s.data.constructor.name]
  if (descr == null) throw new InvalidInputError(`${what}: unsupported sample array ${s.data.constructor.name}`)
  return descr
}

function checkMatch (s: NpySlice, z: number, first: NpySlice, what: string): void {
  if (s.width !== first.width || s.height !== first.height || s.components !== first.components || s.data.constructor !== first.data.constructor || s.data.length !== s.width * s.height * s.components) {
    throw new InvalidInputError(`${what}: slice ${z} does not match slice 0 (${first.width}x${first.height}x${first.components} ${first.data.constructor.name})`)
  }
}

function shapeOf (first: NpySlice, slices?: number): number[] {
  return [...(slices != null ? [slices] : []), first.height, first.width, ...(first.components > 1 ? [first.components] : [])]
}

/** Typed arrays are little endian on every platform Node supports in practice. */
function bytesOf (s: NpySlice): Uint8Array {
  return new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength)
}

/** Encodes one image, or the slices of a volume (all the same size and type), as .npy bytes. */
export function encodeNpy (input: NpySlice | NpySlice[]): Uint8Array {
  const slices = Array.isArray(input) ? input : [input]
  if (slices.length === 0) throw new InvalidInputError('encodeNpy: no slice given')
  const first = slices[0]
  const descr = descrOf(first, 'encodeNpy')
  for (const [z, s] of slices.entries()) checkMatch(s, z, first, 'encodeNpy')
  const header = npyHeader(descr, shapeOf(first, Array.isArray(input) ? slices.length : undefined))
  const sliceBytes = first.data.byteLength
  const out = new Uint8Array(header.length + sliceBytes * slices.length)
  out.set(header)
  slices.forEach((s, z) => out.set(bytesOf(s), header.length + z * sliceBytes))
  return out
}

/**
 * encodeNpy of a volume whose slices arrive one by one, as chunks to write: the header
 * (from the first slice and `count`) then each slice's bytes as it comes; never holds the volume.
 * Throws if the slices do not match or are not `count`.
 */
export async function * npyChunks (slices: AsyncIterable<NpySlice>, count: number, what = 'encodeNpy'): AsyncGenerator<Uint8Array> {
  let first: NpySlice | undefined
  let z = 0
  for await (const s of slices) {
    if (first == null) {
      first = s
      yield npyHeader(descrOf(s, what), shapeOf(s, count))
    }
    if (z >= count) throw new InvalidInputError(`${what}: ${count} slices expected, more were given`)
    checkMatch(s, z++, first, what)
    yield bytesOf(s)
  }
  if (first == null) throw new InvalidInputError(`${what}: no slice given`)
  if (z !== count) throw new InvalidInputError(`${what}: ${count} slices expected, ${z} were given`)
}

/**
 * Writes the .npy file of a volume (slices, rows, columns[, 3]) whose slices arrive one by one,
 * with the values of the NIfTI output (outputValues), atomically. Each slice is converted and
 * written as it comes; the file is the same, byte for byte, as encodeNpy of the whole volume.
 */
export async function writeNpyStream (path: string, meta: Pick<VolumeMeta, 'dtype' | 'valueMapping' | 'rescale'>, slices: AsyncIterable<RasterImage>, count: number, options?: { applyRescale?: boolean, signal?: AbortSignal, write?: AtomicWriteOptions }): Promise<void> {
  const what = `writeNpy ${path}`
  let shape: { width: number, height: number, components: number } | undefined
  const tapped = async function * (): AsyncGenerator<RasterImage> {
    let z = 0
    for await (const s of slices) {
      shape ??= { width: s.width, height: s.height, components: s.components }
      if (s.width !== shape.width || s.height !== shape.height || s.components !== shape.components) {
        throw new InvalidInputError(`${what}: slice ${z} does not match slice 0 (${shape.width}x${shape.height}x${shape.components})`)
      }
      z++
      yield s
    }
  }
  await writeStreamAtomic(path, async function * (scratch) {
    const values = await streamOutputValues(meta, tapped(), { applyRescale: options?.applyRescale, spool: scratch('.values'), signal: options?.signal })
    const withShape = async function * (): AsyncGenerator<NpySlice> {
      for await (const data of values.slices) yield { ...shape!, data }
    }
    yield * npyChunks(withShape(), count, what)
  }, { ...options?.write, signal: options?.signal })
}
