/**
 * NIfTI-1 header parsing and validation. Produces the VolumeMeta and the
 * facts needed to cut the voxel data into slices. Free-text fields
 * (descrip, aux_file, intent_name) and extensions are deliberately not read.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { VolumeMeta } from '../types.js'
import { checkDimensions } from './limits.js'
import { NIFTI1, datatypeByCode, type NiftiDatatype } from './nifti-layout.js'
import { diagonalAffine, quaternToAffine } from './nifti-affine.js'

/** A parsed, validated NIfTI-1 header. */
export interface NiftiHeader {
  littleEndian: boolean
  datatype: NiftiDatatype
  dims: [number, number, number]
  voxOffset: number
  /** bytes of voxel data (dims product times datatype size) */
  dataBytes: number
  meta: VolumeMeta
}

/** Parses the 348-byte header at the start of bytes (a .nii or a decompressed .nii.gz prefix). */
export function parseNiftiHeader (label: string, bytes: Uint8Array): NiftiHeader {
  if (bytes.length < NIFTI1.headerSize) {
    throw new InvalidInputError(`${label}: truncated NIfTI: ${bytes.length} bytes, the header alone needs 348`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const sizeLE = view.getInt32(0, true)
  const sizeBE = view.getInt32(0, false)
  if (sizeLE === 540 || sizeBE === 540) throw new UnsupportedInputError(`${label}: NIfTI-2 is not supported yet`)
  if (sizeLE !== 348 && sizeBE !== 348) throw new InvalidInputError(`${label}: not a NIfTI-1 file (sizeof_hdr is ${sizeLE})`)
  const le = sizeLE === 348
  const magic = String.fromCharCode(...bytes.subarray(NIFTI1.magic, NIFTI1.magic + 3))
  if (magic === 'ni1') throw new UnsupportedInputError(`${label}: NIfTI-1 .hdr/.img pairs are not supported yet (use a single-file .nii)`)
  if (magic !== 'n+1') throw new InvalidInputError(`${label}: not a NIfTI-1 file (magic "${magic}")`)
  const i16 = (o: number): number => view.getInt16(o, le)
  const f32 = (o: number): number => view.getFloat32(o, le)

  const dim = Array.from({ length: 8 }, (_, i) => i16(NIFTI1.dim + 2 * i))
  const ndim = dim[0]
  if (ndim < 1 || ndim > 7) throw new InvalidInputError(`${label}: corrupt NIfTI header: dim[0] = ${ndim}`)
  const shape = dim.slice(1, ndim + 1)
  const code = i16(NIFTI1.datatype)
  const datatype = datatypeByCode(code)
  if (datatype == null) throw new InvalidInputError(`${label}: corrupt NIfTI header: unknown datatype code ${code}`)
  const what = `${shape.join('x')} ${datatype.name}`
  checkDimensions(label, shape, Math.max(datatype.bytes, 1), what)
  const extra = shape.slice(3)
  if (extra.some(n => n !== 1)) {
    throw new UnsupportedInputError(`${label}: ${ndim}D NIfTI (${what}) is not supported yet: only 2D and 3D volumes`)
  }
  if (!datatype.supported) throw new UnsupportedInputError(`${label}: NIfTI datatype ${datatype.name} (${what}) is not supported yet`)
  const dims: [number, number, number] = [shape[0], shape[1] ?? 1, shape[2] ?? 1]
  const voxOffset = f32(NIFTI1.voxOffset)
  if (!Number.isInteger(voxOffset) || voxOffset < NIFTI1.headerSize) {
    throw new InvalidInputError(`${label}: corrupt NIfTI header: vox_offset ${voxOffset}`)
  }
  const pixdim = Array.from({ length: 8 }, (_, i) => f32(NIFTI1.pixdim + 4 * i))
  const qformCode = i16(NIFTI1.qformCode)
  const sformCode = i16(NIFTI1.sformCode)
  const quatern = [0, 1, 2].map(i => f32(NIFTI1.quatern + 4 * i))
  const qoffset = [0, 1, 2].map(i => f32(NIFTI1.qoffset + 4 * i))
  const qfac = pixdim[0] < 0 ? -1 : 1
  const srow = Array.from({ length: 12 }, (_, i) => f32(NIFTI1.srow + 4 * i))
  const spacing: [number, number, number] = [pixdim[1], pixdim[2], pixdim[3]]
  const affine = sformCode > 0
    ? [...srow, 0, 0, 0, 1]
    : qformCode > 0 ? quaternToAffine(quatern, qoffset, spacing, qfac) : diagonalAffine(spacing)
  const slope = f32(NIFTI1.sclSlope)
  const inter = f32(NIFTI1.sclInter)
  const meta: VolumeMeta = {
    sourceFormat: 'nifti',
    dims,
    spacing,
    affine,
    dtype: datatype.name,
    nifti: { qformCode, sformCode, xyztUnits: bytes[NIFTI1.xyztUnits], quatern, qoffset, qfac }
  }
  if (slope !== 0 && Number.isFinite(slope) && Number.isFinite(inter) && !(slope === 1 && inter === 0)) {
    meta.rescale = { slope, intercept: inter }
  }
  const dataBytes = dims[0] * dims[1] * dims[2] * datatype.bytes
  return { littleEndian: le, datatype, dims, voxOffset, dataBytes, meta }
}
