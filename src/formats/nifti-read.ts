/**
 * NIfTI-1 reader (.nii and .nii.gz): a 'volume' InputItem whose slices() yields
 * each z slice (x fastest, as stored) in native byte order.
 */
import { InvalidInputError } from '../errors.js'
import type { InputItem, RasterImage } from '../types.js'
import { gunzipPrefix } from './gunzip-prefix.js'
import { parseNiftiHeader, type NiftiHeader } from './nifti-header.js'

/** Reads an uncompressed .nii held in memory. */
export function readNiftiBytes (label: string, bytes: Uint8Array): InputItem {
  const header = parseNiftiHeader(label, bytes)
  checkLength(label, header, bytes.length, 'the file holds')
  return toInputItem(header, bytes)
}

/** Reads a gzip-compressed .nii.gz, inflating only header + declared voxel bytes. */
export async function readNiftiGzip (label: string, compressed: Uint8Array, signal?: AbortSignal): Promise<InputItem> {
  let header: NiftiHeader | undefined
  const { data, error } = await gunzipPrefix(compressed, 348, head => {
    header = parseNiftiHeader(label, head)
    return header.voxOffset + header.dataBytes
  }, signal)
  if (header == null) throw new InvalidInputError(`${label}: corrupt gzip stream`)
  if (data.length < header.voxOffset + header.dataBytes) {
    const why = error == null ? '' : ` (gzip: ${error.message})`
    checkLength(label, header, data.length, `the decompressed file holds${why}`)
  }
  return toInputItem(header, data)
}

function checkLength (label: string, header: NiftiHeader, available: number, holds: string): void {
  const need = header.voxOffset + header.dataBytes
  if (available < need) {
    throw new InvalidInputError(`${label}: truncated: header says ${header.dims.join('x')} ${header.datatype.name} (${header.dataBytes} bytes at offset ${header.voxOffset}) but ${holds} ${available}`)
  }
}

function toInputItem (header: NiftiHeader, bytes: Uint8Array): InputItem {
  const [nx, ny, nz] = header.dims
  const sliceBytes = nx * ny * header.datatype.bytes
  const makeSlice = (z: number): RasterImage => {
    const start = header.voxOffset + z * sliceBytes
    const copy = new Uint8Array(bytes.subarray(start, start + sliceBytes))
    const { name, bytes: size, signed, components } = header.datatype
    if (size === 2 && !header.littleEndian) swap16(copy)
    const data = name === 'int16'
      ? new Int16Array(copy.buffer)
      : name === 'uint16' ? new Uint16Array(copy.buffer) : name === 'int8' ? new Int8Array(copy.buffer) : copy
    return { width: nx, height: ny, components, bitsStored: size === 2 ? 16 : 8, signed, data }
  }
  return {
    kind: 'volume',
    meta: header.meta,
    sliceCount: nz,
    slices: async function * () {
      for (let z = 0; z < nz; z++) yield makeSlice(z)
    }
  }
}

/** Swaps the bytes of every 16-bit word in place (big-endian file to native little-endian). */
export function swap16 (bytes: Uint8Array): void {
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const t = bytes[i]
    bytes[i] = bytes[i + 1]
    bytes[i + 1] = t
  }
}
