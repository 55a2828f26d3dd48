/**
 * NIfTI-1/NIfTI-2 reader (.nii and .nii.gz): one 'volume' InputItem per 3D
 * volume (a 4D file gives several, in t order, each with meta.frame), whose
 * slices() yields each z slice (x fastest, as stored) in native byte order.
 * Datatypes wider than 16 bits are mapped to 16 bits (value-map.ts) by a mapping chosen over
 * the whole volume: the slices are 16-bit and meta.valueMapping restores the source.
 */
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { InputItem, RasterImage, VolumeMeta, AbortOptions } from '../../types.js'
import { fileRanges, gzipRanges, memoryRanges, type ByteRanges } from './byte-ranges.js'
import { gunzipFilePrefix } from '../gunzip-prefix.js'
import { NIFTI_HEADER_BYTES, parseNiftiHeader, type NiftiHeader } from './header.js'
import { applyMapping, mappingError, newValueStats, planMapping, scanValues, type SourceArray } from '../value-map.js'

/** Options of the NIfTI reader. */
export interface NiftiReadOptions {
  /** Carry descrip, aux_file, intent_name and extensions in meta.text. */
  keepText?: boolean
  /** Map float or 32-bit data that has no exact 16-bit form linearly to 16 bits. */
  quantize?: boolean
}

/** Reads an uncompressed .nii held in memory. */
export async function readNiftiBytes (label: string, bytes: Uint8Array, options?: NiftiReadOptions): Promise<InputItem[]> {
  const header = parseNiftiHeader(label, bytes, options)
  checkLength(label, header, bytes.length, 'the file holds')
  return await toInputItems(label, header, memoryRanges(label, bytes), options)
}

/**
 * Reads an uncompressed .nii file from disk: the header now, the voxels of each slice when
 * the slice is asked for (by position), so the file is never held. `size` is the file's size.
 */
export async function readNiftiFile (path: string, size: number, options?: NiftiReadOptions): Promise<InputItem[]> {
  const ranges = fileRanges(path)
  try {
    let header = parseNiftiHeader(path, await ranges.read(0, Math.min(size, NIFTI_HEADER_BYTES)))
    if (options?.keepText === true) header = parseNiftiHeader(path, await ranges.read(0, Math.min(size, Math.max(header.voxOffset, NIFTI_HEADER_BYTES))), options)
    checkLength(path, header, size, 'the file holds')
    return await toInputItems(path, header, ranges, options)
  } finally {
    await ranges.close()
  }
}

/**
 * Reads a .nii.gz file from disk without holding its voxels: one streamed inflate now checks
 * the length (keeping only the header), and each volume's slices are inflated again from the
 * file when asked for, in one forward pass shared by the volumes of a 4D file.
 */
export async function readNiftiGzipFile (path: string, options: NiftiReadOptions & AbortOptions = {}): Promise<InputItem[]> {
  const { signal } = options
  let header: NiftiHeader | undefined
  const { head, total, error } = await gunzipFilePrefix(path, NIFTI_HEADER_BYTES, head => {
    header = parseNiftiHeader(path, head)
    return { need: header.voxOffset + header.dataBytes, keep: options?.keepText === true ? Math.max(header.voxOffset, NIFTI_HEADER_BYTES) : NIFTI_HEADER_BYTES }
  }, { signal })
  if (header == null) throw new InvalidInputError(`${path}: corrupt gzip stream`)
  if (total < header.voxOffset + header.dataBytes) {
    const why = error == null ? '' : ` (gzip: ${error.message})`
    checkLength(path, header, total, `the decompressed file holds${why}`)
  }
  if (options?.keepText === true) header = parseNiftiHeader(path, head, options)
  const ranges = gzipRanges(path)
  try {
    return await toInputItems(path, header, ranges, options)
  } catch (err) {
    await ranges.close()
    throw err
  }
}

function checkLength (label: string, header: NiftiHeader, available: number, holds: string): void {
  const need = header.voxOffset + header.dataBytes
  if (available < need) {
    throw new InvalidInputError(`${label}: truncated: header says ${header.dims.join('x')}${header.volumes > 1 ? `x${header.volumes}` : ''} ${header.datatype.name} (${header.dataBytes} bytes at offset ${header.voxOffset}) but ${holds} ${available}`)
  }
}

/**
 * One item per 3D volume. 8/16-bit and RGB24 slices are read from `ranges` one at a time as
 * they are iterated; for wider datatypes the 16-bit mapping is chosen now, from one read of the
 * whole volume (held when small, slice by slice when large), and each slice is mapped when asked for.
 * The items share `ranges`: it is closed after the last volume's slices, when an iteration
 * stops early, and by each item's close().
 */
async function toInputItems (label: string, header: NiftiHeader, ranges: ByteRanges, options?: NiftiReadOptions): Promise<InputItem[]> {
  const [nx, ny, nz] = header.dims
  const sliceBytes = nx * ny * header.datatype.bytes
  const volumeBytes = sliceBytes * nz
  const items: InputItem[] = []
  for (let t = 0; t < header.volumes; t++) {
    const start = header.voxOffset + t * volumeBytes
    const meta: VolumeMeta = structuredClone(header.meta)
    if (header.volumes > 1) meta.frame = { index: t, count: header.volumes }
    const last = t === header.volumes - 1
    let slice: (z: number) => Promise<RasterImage>
    if (header.datatype.bytes > 2) {
      const held = volumeBytes <= WIDE_IN_MEMORY_BYTES
      slice = await mappedSlices(`${label}${header.volumes > 1 ? ` (volume ${t + 1})` : ''}`, header, ranges, start, held, meta, options)
      if (last && held) await ranges.close()
    } else {
      slice = async z => narrowSlice(header, await ranges.read(start + z * sliceBytes, sliceBytes))
    }
    items.push({
      kind: 'volume' as const,
      meta,
      sliceCount: nz,
      slices: async function * () {
        let done = false
        try {
          for (let z = 0; z < nz; z++) yield await slice(z)
          done = true
        } finally {
          if (!done || last) await ranges.close()
        }
      },
      close: ranges.close
    })
  }
  return items
}

/** A slice of an 8/16-bit or RGB24 volume from its own bytes, in native byte order. */
function narrowSlice (header: NiftiHeader, bytes: Uint8Array): RasterImage {
  const [nx, ny] = header.dims
  const { name, bytes: size, signed, components } = header.datatype
  if (size === 2 && !header.littleEndian) swapBytes(bytes, 2)
  const buffer = bytes.buffer as ArrayBuffer
  const data = name === 'int16'
    ? new Int16Array(buffer, bytes.byteOffset, bytes.byteLength / 2)
    : name === 'uint16' ? new Uint16Array(buffer, bytes.byteOffset, bytes.byteLength / 2) : name === 'int8' ? new Int8Array(buffer, bytes.byteOffset, bytes.byteLength) : bytes
  return { width: nx, height: ny, components, bitsStored: size === 2 ? 16 : 8, signed, data }
}

/**
 * Below this, a volume wider than 16 bits is read once and held (4D series of small volumes are
 * read in one forward pass); above it, it is read twice slice by slice (once to choose its 16-bit
 * mapping, once to map each slice as it is asked for), so memory does not grow with its size.
 */
const WIDE_IN_MEMORY_BYTES = 64 * 1024 * 1024

/**
 * A volume of 32/64-bit samples mapped to 16 bits: one scan of every value chooses the mapping
 * (value-map.ts), then each slice is mapped when asked for. meta.valueMapping is complete now.
 */
async function mappedSlices (label: string, header: NiftiHeader, ranges: ByteRanges, start: number, held: boolean, meta: VolumeMeta, options?: NiftiReadOptions): Promise<(z: number) => Promise<RasterImage>> {
  const { name, bytes: size } = header.datatype
  const Ctor = ({ int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array } as Record<string, (new (b: ArrayBuffer, offset: number, length: number) => SourceArray) | undefined>)[name]
  if (Ctor == null) throw new UnsupportedInputError(`${label}: NIfTI datatype ${name} is not supported`)
  const [nx, ny, nz] = header.dims
  const sliceBytes = nx * ny * size
  const values = (bytes: Uint8Array): SourceArray => {
    if (!header.littleEndian) swapBytes(bytes, size)
    return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / size)
  }
  const whole = held ? values(await ranges.read(start, sliceBytes * nz)) : undefined
  const sliceValues = async (z: number): Promise<SourceArray> => whole != null ? whole.subarray(z * nx * ny, (z + 1) * nx * ny) : values(await ranges.read(start + z * sliceBytes, sliceBytes))
  const stats = newValueStats(name)
  for (let z = 0; z < nz; z++) scanValues(stats, await sliceValues(z), label)
  const plan = planMapping(stats, { quantize: options?.quantize, label })
  // a quantized mapping's largest error is measured over every value now (one more read when streamed), so meta is complete
  let maxAbsError = 0
  if (!plan.exact) for (let z = 0; z < nz; z++) maxAbsError = Math.max(maxAbsError, mappingError(plan, await sliceValues(z)))
  meta.valueMapping = { slope: plan.slope, intercept: plan.intercept, dtype: name, maxAbsError }
  meta.dtype = plan.signed ? 'int16' : plan.bitsStored <= 8 ? 'uint8' : 'uint16'
  return async (z) => {
    const { data } = applyMapping(plan, await sliceValues(z))
    return { width: nx, height: ny, components: 1, bitsStored: plan.bitsStored, signed: plan.signed, data: plan.bitsStored <= 8 && !plan.signed ? Uint8Array.from(data) : data }
  }
}

/** Reverses the bytes of every `size`-byte word in place (big-endian file to native little-endian). */
export function swapBytes (bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse()
}

/** Swaps the bytes of every 16-bit word in place. */
export function swap16 (bytes: Uint8Array): void {
  swapBytes(bytes, 2)
}
