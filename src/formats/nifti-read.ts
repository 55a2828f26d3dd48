/**
 * NIfTI-1/NIfTI-2 reader (.nii and .nii.gz): one 'volume' InputItem per 3D
 * volume (a 4D file gives several, in t order, each with meta.frame), whose
 * slices() yields each z slice (x fastest, as stored) in native byte order.
 * Datatypes wider than 16 bits go through mapTo16 (value-map.ts) over the
 * whole volume: the slices are 16-bit and meta.valueMapping restores the source.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { InputItem, RasterImage, VolumeMeta } from '../types.js'
import { gunzipPrefix } from './gunzip-prefix.js'
import { NIFTI_HEADER_BYTES, parseNiftiHeader, type NiftiHeader } from './nifti-header.js'
import { mapTo16, type SourceArray } from './value-map.js'

/** Options of the NIfTI reader. */
export interface NiftiReadOptions {
  /** Carry descrip, aux_file, intent_name and extensions in meta.text. */
  keepText?: boolean
  /** Map float or 32-bit data that has no exact 16-bit form linearly to 16 bits. */
  quantize?: boolean
}

/** Reads an uncompressed .nii held in memory. */
export function readNiftiBytes (label: string, bytes: Uint8Array, options?: NiftiReadOptions): InputItem[] {
  const header = parseNiftiHeader(label, bytes, options)
  checkLength(label, header, bytes.length, 'the file holds')
  return toInputItems(label, header, bytes, options)
}

/** Reads a gzip-compressed .nii.gz, inflating only header + declared voxel bytes. */
export async function readNiftiGzip (label: string, compressed: Uint8Array, signal?: AbortSignal, options?: NiftiReadOptions): Promise<InputItem[]> {
  let header: NiftiHeader | undefined
  const { data, error } = await gunzipPrefix(compressed, NIFTI_HEADER_BYTES, head => {
    header = parseNiftiHeader(label, head)
    return header.voxOffset + header.dataBytes
  }, signal)
  if (header == null) throw new InvalidInputError(`${label}: corrupt gzip stream`)
  if (data.length < header.voxOffset + header.dataBytes) {
    const why = error == null ? '' : ` (gzip: ${error.message})`
    checkLength(label, header, data.length, `the decompressed file holds${why}`)
  }
  if (options?.keepText === true) header = parseNiftiHeader(label, data, options)
  return toInputItems(label, header, data, options)
}

function checkLength (label: string, header: NiftiHeader, available: number, holds: string): void {
  const need = header.voxOffset + header.dataBytes
  if (available < need) {
    throw new InvalidInputError(`${label}: truncated: header says ${header.dims.join('x')}${header.volumes > 1 ? `x${header.volumes}` : ''} ${header.datatype.name} (${header.dataBytes} bytes at offset ${header.voxOffset}) but ${holds} ${available}`)
  }
}

function toInputItems (label: string, header: NiftiHeader, bytes: Uint8Array, options?: NiftiReadOptions): InputItem[] {
  const [nx, ny, nz] = header.dims
  const volumeBytes = nx * ny * nz * header.datatype.bytes
  return Array.from({ length: header.volumes }, (_, t) => {
    const start = header.voxOffset + t * volumeBytes
    const meta: VolumeMeta = structuredClone(header.meta)
    if (header.volumes > 1) meta.frame = { index: t, count: header.volumes }
    const volume = bytes.subarray(start, start + volumeBytes)
    const slice = header.datatype.bytes > 2
      ? mappedSlices(`${label}${header.volumes > 1 ? ` (volume ${t + 1})` : ''}`, header, volume, meta, options)
      : (z: number) => narrowSlice(header, volume, z)
    return {
      kind: 'volume' as const,
      meta,
      sliceCount: nz,
      slices: async function * () {
        for (let z = 0; z < nz; z++) yield slice(z)
      }
    }
  })
}

/** A slice of an 8/16-bit or RGB24 volume, copied and in native byte order. */
function narrowSlice (header: NiftiHeader, volume: Uint8Array, z: number): RasterImage {
  const [nx, ny] = header.dims
  const sliceBytes = nx * ny * header.datatype.bytes
  const copy = new Uint8Array(volume.subarray(z * sliceBytes, (z + 1) * sliceBytes))
  const { name, bytes: size, signed, components } = header.datatype
  if (size === 2 && !header.littleEndian) swapBytes(copy, 2)
  const data = name === 'int16'
    ? new Int16Array(copy.buffer)
    : name === 'uint16' ? new Uint16Array(copy.buffer) : name === 'int8' ? new Int8Array(copy.buffer) : copy
  return { width: nx, height: ny, components, bitsStored: size === 2 ? 16 : 8, signed, data }
}

/** The whole volume mapped to 16 bits once; slices are views of the result. */
function mappedSlices (label: string, header: NiftiHeader, volume: Uint8Array, meta: VolumeMeta, options?: NiftiReadOptions): (z: number) => RasterImage {
  const copy = new Uint8Array(volume)
  if (!header.littleEndian) swapBytes(copy, header.datatype.bytes)
  const Ctor = ({ int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array } as Record<string, (new (b: ArrayBuffer) => SourceArray) | undefined>)[header.datatype.name]
  if (Ctor == null) throw new UnsupportedInputError(`${label}: NIfTI datatype ${header.datatype.name} is not supported`)
  const mapped = mapTo16(new Ctor(copy.buffer), { quantize: options?.quantize, label })
  meta.valueMapping = mapped.mapping
  meta.dtype = mapped.signed ? 'int16' : mapped.bitsStored <= 8 ? 'uint8' : 'uint16'
  const [nx, ny] = header.dims
  return (z) => {
    const part = mapped.data.subarray(z * nx * ny, (z + 1) * nx * ny)
    const data = mapped.bitsStored <= 8 && !mapped.signed ? Uint8Array.from(part) : part.slice()
    return { width: nx, height: ny, components: 1, bitsStored: mapped.bitsStored, signed: mapped.signed, data }
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
