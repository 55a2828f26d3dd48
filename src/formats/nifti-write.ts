/**
 * NIfTI-1 writer: single-file .nii (gzip-compressed when the path ends in .gz),
 * little endian, datatype equal to the source's, optionally at a reduced
 * resolution level (dims, pixdim and affine scaled by 2^level in x and y).
 */
import { gzipSync } from 'node:zlib'
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { RasterImage, VolumeMeta } from '../types.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { affineToQuatern, scaleAffineForLevel } from './nifti-affine.js'
import { NIFTI1, datatypeByName } from './nifti-layout.js'

/** Options of encodeNifti / writeNifti. */
export interface NiftiWriteOptions {
  /** Resolution reduction: the slices are the level images, ceil(n / 2^level) wide and high. */
  level?: number
}

/** Encodes a volume as a NIfTI-1 .nii file. */
export function encodeNifti (meta: VolumeMeta, slices: RasterImage[], options?: NiftiWriteOptions): Uint8Array {
  const level = options?.level ?? 0
  if (!Number.isInteger(level) || level < 0 || level > 16) throw new InvalidInputError(`encodeNifti: invalid level ${level}`)
  const dt = datatypeByName(meta.dtype)
  if (dt == null || !dt.supported) throw new UnsupportedInputError(`encodeNifti: datatype ${meta.dtype} is not supported yet`)
  const f = 2 ** level
  const nx = Math.ceil(meta.dims[0] / f)
  const ny = Math.ceil(meta.dims[1] / f)
  const nz = meta.dims[2]
  if (slices.length !== nz) throw new InvalidInputError(`encodeNifti: volume has ${nz} slices but ${slices.length} were given`)
  const sliceBytes = nx * ny * dt.bytes
  const out = new Uint8Array(NIFTI1.dataOffset + sliceBytes * nz)
  const affine = scaleAffineForLevel(meta.affine, level)
  writeHeader(new DataView(out.buffer), meta, affine, [nx, ny, nz], level, dt.code, dt.bytes * 8)
  slices.forEach((s, z) => {
    if (s.width !== nx || s.height !== ny || s.components !== dt.components || s.signed !== dt.signed || s.data.BYTES_PER_ELEMENT * s.components !== dt.bytes) {
      throw new InvalidInputError(`encodeNifti: slice ${z} is ${s.width}x${s.height}x${s.components} ${s.signed ? 'signed' : 'unsigned'} ${s.data.constructor.name}, expected ${nx}x${ny} ${meta.dtype} at level ${level}`)
    }
    if (s.data.length * s.data.BYTES_PER_ELEMENT !== nx * ny * dt.bytes) {
      throw new InvalidInputError(`encodeNifti: slice ${z} holds ${s.data.length} samples, expected ${nx * ny * dt.components}`)
    }
    // Typed arrays are little endian on every platform Node supports in practice.
    out.set(new Uint8Array(s.data.buffer, s.data.byteOffset, sliceBytes), NIFTI1.dataOffset + z * sliceBytes)
  })
  return out
}

/** Writes a NIfTI-1 file atomically; gzip when path ends with ".gz". */
export async function writeNifti (path: string, meta: VolumeMeta, slices: RasterImage[], options?: NiftiWriteOptions): Promise<void> {
  const nii = encodeNifti(meta, slices, options)
  await writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(nii, { level: 6 }) : nii)
}

function writeHeader (view: DataView, meta: VolumeMeta, affine: number[], dims: number[], level: number, code: number, bitpix: number): void {
  const le = true
  const f = 2 ** level
  view.setInt32(NIFTI1.sizeofHdr, NIFTI1.headerSize, le)
  const dim = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1]
  dim.forEach((d, i) => view.setInt16(NIFTI1.dim + 2 * i, d, le))
  view.setInt16(NIFTI1.datatype, code, le)
  view.setInt16(NIFTI1.bitpix, bitpix, le)
  const fromAffine = affineToQuatern(affine)
  const nifti = meta.nifti
  const keepQuatern = nifti?.quatern != null && nifti.qoffset != null && nifti.qfac != null
  const qfac = keepQuatern ? (nifti.qfac as number) : fromAffine.qfac
  const pixdim = [qfac, meta.spacing[0] * f, meta.spacing[1] * f, meta.spacing[2], 0, 0, 0, 0]
  pixdim.forEach((p, i) => view.setFloat32(NIFTI1.pixdim + 4 * i, p, le))
  view.setFloat32(NIFTI1.voxOffset, NIFTI1.dataOffset, le)
  view.setFloat32(NIFTI1.sclSlope, meta.rescale?.slope ?? 0, le)
  view.setFloat32(NIFTI1.sclInter, meta.rescale?.intercept ?? 0, le)
  view.setUint8(NIFTI1.xyztUnits, nifti?.xyztUnits ?? 2)
  view.setInt16(NIFTI1.qformCode, nifti?.qformCode ?? 1, le)
  view.setInt16(NIFTI1.sformCode, nifti?.sformCode ?? 1, le)
  const quatern = keepQuatern ? (nifti.quatern as number[]) : fromAffine.quatern
  const qoffset = keepQuatern ? (nifti.qoffset as number[]) : fromAffine.qoffset
  quatern.forEach((q, i) => view.setFloat32(NIFTI1.quatern + 4 * i, q, le))
  qoffset.forEach((q, i) => view.setFloat32(NIFTI1.qoffset + 4 * i, q, le))
  for (let i = 0; i < 12; i++) view.setFloat32(NIFTI1.srow + 4 * i, affine[i], le)
  'n+1\0'.split('').forEach((c, i) => view.setUint8(NIFTI1.magic + i, c.charCodeAt(0)))
}
