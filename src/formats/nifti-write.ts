/**
 * NIfTI-1 writer: single-file .nii (gzip-compressed when the path ends in .gz),
 * little endian, optionally at a reduced resolution level (dims, pixdim and
 * affine scaled by 2^level in x and y).
 *
 * Values: the source's datatype. A volume published through a 16-bit value
 * mapping (meta.valueMapping) is written back in its original datatype when the
 * mapping was exact, as float32 when it was quantized. scl_slope/scl_inter carry
 * meta.rescale, unless applyRescale: then the real-world values are written
 * (in the source datatype when every one is exact in it, else float32) and scl is reset.
 * flipRows writes the rows bottom-up with the affine adjusted, as dcm2niix does for DICOM.
 */
import { gzipSync } from 'node:zlib'
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { RasterImage, VolumeMeta } from '../types.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { affineToQuatern, scaleAffineForLevel } from './nifti-affine.js'
import { NIFTI1, datatypeByName, type NiftiDatatype } from './nifti-layout.js'
import { unmap16, type SourceArray } from './value-map.js'

/** Options of encodeNifti / writeNifti. */
export interface NiftiWriteOptions {
  /** Resolution reduction: the slices are the level images, ceil(n / 2^level) wide and high. */
  level?: number
  /** Write real-world values (meta.rescale applied) and reset scl_slope/scl_inter. */
  applyRescale?: boolean
  /** Store rows bottom-up (row ny-1 first) and flip the affine's y column to match: dcm2niix's layout of DICOM images. */
  flipRows?: boolean
}

const ARRAYS: Record<string, new (n: number) => SourceArray> = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array }
const RANGES: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1] }

/** The values a NIfTI output holds for one slice of stored samples, and their datatype. */
export interface NiftiValues { dtype: string, slices: SourceArray[], rescale?: { slope: number, intercept: number } }

/**
 * The voxel values of the output: stored samples, unmapped to the source datatype
 * (float32 when the mapping was quantized), optionally with the rescale applied.
 * Shared with the .npy writer so both give the same numbers.
 */
export function outputValues (meta: Pick<VolumeMeta, 'dtype' | 'valueMapping' | 'rescale'>, slices: Array<{ data: ArrayLike<number> & { length: number } }>, applyRescale = false): NiftiValues {
  let dtype = meta.dtype
  let values: SourceArray[] = slices.map(s => s.data as SourceArray)
  const m = meta.valueMapping
  if (m != null) {
    const exact = m.maxAbsError === 0
    dtype = exact ? m.dtype : 'float32'
    const mapping = { slope: m.slope, intercept: m.intercept, dtype }
    values = slices.map(s => unmap16(s.data instanceof Int16Array || s.data instanceof Uint16Array ? s.data : Uint16Array.from(s.data), mapping))
  }
  const r = meta.rescale
  if (!applyRescale || r == null || (r.slope === 1 && r.intercept === 0) || r.slope === 0 || dtype === 'rgb24') {
    return { dtype, slices: values, ...(r != null && r.slope !== 0 ? { rescale: r } : {}) }
  }
  const range = RANGES[dtype]
  let exactInSource = range != null && Number.isInteger(r.slope) && Number.isInteger(r.intercept)
  if (exactInSource) {
    for (const v of values) {
      for (let i = 0; i < v.length && exactInSource; i++) {
        const x = r.slope * v[i] + r.intercept
        if (x < range[0] || x > range[1]) exactInSource = false
      }
    }
  }
  const out = exactInSource ? dtype : dtype === 'float64' ? 'float64' : 'float32'
  const Ctor = ARRAYS[out]
  return {
    dtype: out,
    slices: values.map(v => {
      const o = new Ctor(v.length)
      for (let i = 0; i < v.length; i++) o[i] = r.slope * v[i] + r.intercept
      return o
    })
  }
}

/** Encodes a volume as a NIfTI-1 .nii file. */
export function encodeNifti (meta: VolumeMeta, slices: RasterImage[], options?: NiftiWriteOptions): Uint8Array {
  const level = options?.level ?? 0
  if (!Number.isInteger(level) || level < 0 || level > 16) throw new InvalidInputError(`encodeNifti: invalid level ${level}`)
  const stored = datatypeByName(meta.dtype)
  if (stored == null || !stored.supported) throw new UnsupportedInputError(`encodeNifti: datatype ${meta.dtype} is not supported yet`)
  const f = 2 ** level
  const nx = Math.ceil(meta.dims[0] / f)
  const ny = Math.ceil(meta.dims[1] / f)
  const nz = meta.dims[2]
  if (slices.length !== nz) throw new InvalidInputError(`encodeNifti: volume has ${nz} slices but ${slices.length} were given`)
  slices.forEach((s, z) => {
    if (s.width !== nx || s.height !== ny || s.components !== stored.components || s.signed !== stored.signed || s.data.BYTES_PER_ELEMENT * s.components !== stored.bytes) {
      throw new InvalidInputError(`encodeNifti: slice ${z} is ${s.width}x${s.height}x${s.components} ${s.signed ? 'signed' : 'unsigned'} ${s.data.constructor.name}, expected ${nx}x${ny} ${meta.dtype} at level ${level}`)
    }
    if (s.data.length * s.data.BYTES_PER_ELEMENT !== nx * ny * stored.bytes) {
      throw new InvalidInputError(`encodeNifti: slice ${z} holds ${s.data.length} samples, expected ${nx * ny * stored.components}`)
    }
  })
  const values = outputValues(meta, slices, options?.applyRescale === true)
  const dt = datatypeByName(values.dtype) as NiftiDatatype
  const sliceBytes = nx * ny * dt.bytes
  const rowBytes = nx * dt.bytes
  const out = new Uint8Array(NIFTI1.dataOffset + sliceBytes * nz)
  let affine = scaleAffineForLevel(meta.affine, level)
  if (options?.flipRows === true) affine = flipAffineRows(affine, ny)
  writeHeader(new DataView(out.buffer), { ...meta, rescale: values.rescale }, affine, [nx, ny, nz], level, dt.code, dt.bytes * 8, options?.flipRows === true)
  values.slices.forEach((v, z) => {
    // Typed arrays are little endian on every platform Node supports in practice.
    const bytes = new Uint8Array(v.buffer, v.byteOffset, sliceBytes)
    const at = NIFTI1.dataOffset + z * sliceBytes
    if (options?.flipRows !== true) out.set(bytes, at)
    else for (let j = 0; j < ny; j++) out.set(bytes.subarray((ny - 1 - j) * rowBytes, (ny - j) * rowBytes), at + j * rowBytes)
  })
  return out
}

/** The affine of the same voxels stored with rows reversed: voxel (i, j, k) is the old (i, ny-1-j, k). */
export function flipAffineRows (affine: number[], ny: number): number[] {
  const out = [...affine]
  for (let r = 0; r < 3; r++) {
    out[4 * r + 3] = affine[4 * r + 3] + affine[4 * r + 1] * (ny - 1)
    out[4 * r + 1] = -affine[4 * r + 1]
  }
  return out
}

/** Writes a NIfTI-1 file atomically; gzip when path ends with ".gz". */
export async function writeNifti (path: string, meta: VolumeMeta, slices: RasterImage[], options?: NiftiWriteOptions): Promise<void> {
  const nii = encodeNifti(meta, slices, options)
  await writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(nii, { level: 6 }) : nii)
}

function writeHeader (view: DataView, meta: VolumeMeta, affine: number[], dims: number[], level: number, code: number, bitpix: number, recomputeQuatern: boolean): void {
  const le = true
  const f = 2 ** level
  view.setInt32(NIFTI1.sizeofHdr, NIFTI1.headerSize, le)
  const dim = [3, dims[0], dims[1], dims[2], 1, 1, 1, 1]
  dim.forEach((d, i) => view.setInt16(NIFTI1.dim + 2 * i, d, le))
  view.setInt16(NIFTI1.datatype, code, le)
  view.setInt16(NIFTI1.bitpix, bitpix, le)
  const fromAffine = affineToQuatern(affine)
  const nifti = meta.nifti
  const keepQuatern = !recomputeQuatern && nifti?.quatern != null && nifti.qoffset != null && nifti.qfac != null
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
