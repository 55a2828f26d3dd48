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
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { RasterImage, VolumeMeta, AbortOptions } from '../../types.js'
import { writeFileAtomic, writeStreamAtomic, type AtomicWriteOptions } from '../../util/atomic-write.js'
import { affineToQuatern, scaleAffineForLevel } from './affine.js'
import { NIFTI1, datatypeByName, type NiftiDatatype } from './layout.js'
import { outputValues, streamOutputValues } from '../output-values.js'
import type { SourceArray } from '../value-map.js'

/** Options of encodeNifti / writeNifti. */
export interface NiftiWriteOptions {
  /** Resolution reduction: the slices are the level images, ceil(n / 2^level) wide and high. */
  level?: number
  /** Write real-world values (meta.rescale applied) and reset scl_slope/scl_inter. */
  applyRescale?: boolean
  /** Store rows bottom-up (row ny-1 first) and flip the affine's y column to match: dcm2niix's layout of DICOM images. */
  flipRows?: boolean
  /** Where the file may go and whether an existing one is replaced (util/atomic-write.ts). */
  write?: AtomicWriteOptions
}

/** Size of the output at `level` and the stored datatype; throws on a bad level or datatype. */
function geometry (meta: VolumeMeta, options: NiftiWriteOptions | undefined, what: string): { level: number, stored: NiftiDatatype, nx: number, ny: number, nz: number } {
  const level = options?.level ?? 0
  if (!Number.isInteger(level) || level < 0 || level > 16) throw new InvalidInputError(`${what}: invalid level ${level}`)
  const stored = datatypeByName(meta.dtype)
  if (stored == null || !stored.supported) throw new UnsupportedInputError(`${what}: datatype ${meta.dtype} is not supported yet`)
  const f = 2 ** level
  return { level, stored, nx: Math.ceil(meta.dims[0] / f), ny: Math.ceil(meta.dims[1] / f), nz: meta.dims[2] }
}

/** Throws unless slice z has the level's size and the stored datatype. */
function checkSlice (s: RasterImage, z: number, g: ReturnType<typeof geometry>, meta: VolumeMeta, what: string): void {
  const { stored, nx, ny, level } = g
  if (s.width !== nx || s.height !== ny || s.components !== stored.components || s.signed !== stored.signed || s.data.BYTES_PER_ELEMENT * s.components !== stored.bytes) {
    throw new InvalidInputError(`${what}: slice ${z} is ${s.width}x${s.height}x${s.components} ${s.signed ? 'signed' : 'unsigned'} ${s.data.constructor.name}, expected ${nx}x${ny} ${meta.dtype} at level ${level}`)
  }
  if (s.data.length * s.data.BYTES_PER_ELEMENT !== nx * ny * stored.bytes) {
    throw new InvalidInputError(`${what}: slice ${z} holds ${s.data.length} samples, expected ${nx * ny * stored.components}`)
  }
}

/** The 352 bytes before the voxels: header and an empty extension flag. */
function headerBytes (meta: VolumeMeta, g: ReturnType<typeof geometry>, dtype: string, rescale: VolumeMeta['rescale'], options?: NiftiWriteOptions): Uint8Array {
  const dt = datatypeByName(dtype) as NiftiDatatype
  const out = new Uint8Array(NIFTI1.dataOffset)
  let affine = scaleAffineForLevel(meta.affine, g.level)
  if (options?.flipRows === true) affine = flipAffineRows(affine, g.ny)
  writeHeader(new DataView(out.buffer), { ...meta, rescale }, affine, [g.nx, g.ny, g.nz], g.level, dt.code, dt.bytes * 8, options?.flipRows === true)
  return out
}

/** The stored bytes of one slice of values (rows reversed with flipRows); a view of `v` when they need no reordering. */
function sliceBytes (v: SourceArray, nx: number, ny: number, dtype: string, flipRows: boolean): Uint8Array {
  const dt = datatypeByName(dtype) as NiftiDatatype
  const size = nx * ny * dt.bytes
  const rowBytes = nx * dt.bytes
  // Typed arrays are little endian on every platform Node supports in practice.
  const bytes = new Uint8Array(v.buffer, v.byteOffset, size)
  if (!flipRows) return bytes
  const out = new Uint8Array(size)
  for (let j = 0; j < ny; j++) out.set(bytes.subarray((ny - 1 - j) * rowBytes, (ny - j) * rowBytes), j * rowBytes)
  return out
}

/** Encodes a volume as a NIfTI-1 .nii file. */
export function encodeNifti (meta: VolumeMeta, slices: RasterImage[], options?: NiftiWriteOptions): Uint8Array {
  const g = geometry(meta, options, 'encodeNifti')
  if (slices.length !== g.nz) throw new InvalidInputError(`encodeNifti: volume has ${g.nz} slices but ${slices.length} were given`)
  slices.forEach((s, z) => checkSlice(s, z, g, meta, 'encodeNifti'))
  const values = outputValues(meta, slices, options?.applyRescale === true)
  const sliceSize = g.nx * g.ny * (datatypeByName(values.dtype) as NiftiDatatype).bytes
  const out = new Uint8Array(NIFTI1.dataOffset + sliceSize * g.nz)
  out.set(headerBytes(meta, g, values.dtype, values.rescale, options))
  values.slices.forEach((v, z) => out.set(sliceBytes(v, g.nx, g.ny, values.dtype, options?.flipRows === true), NIFTI1.dataOffset + z * sliceSize))
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
  await writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(nii, { level: 6 }) : nii, options?.write)
}

/**
 * writeNifti for a volume that arrives slice by slice (z order): each slice is checked,
 * converted and written (through gzip for ".gz") as it comes, so the volume is never held.
 * The file is the same, byte for byte, as writeNifti's of the same slices, and appears
 * under `path` only once complete.
 */
export async function writeNiftiStream (path: string, meta: VolumeMeta, slices: AsyncIterable<RasterImage>, options?: NiftiWriteOptions & AbortOptions): Promise<void> {
  const what = `writeNifti ${path}`
  const g = geometry(meta, options, what)
  const flipRows = options?.flipRows === true
  const checked = async function * (): AsyncGenerator<RasterImage> {
    let z = 0
    for await (const s of slices) {
      if (z >= g.nz) throw new InvalidInputError(`${what}: volume has ${g.nz} slices but more were given`)
      checkSlice(s, z++, g, meta, what)
      yield s
    }
    if (z !== g.nz) throw new InvalidInputError(`${what}: volume has ${g.nz} slices but ${z} were given`)
  }
  await writeStreamAtomic(path, async function * (scratch) {
    const values = await streamOutputValues(meta, checked(), { applyRescale: options?.applyRescale, spool: scratch('.values'), signal: options?.signal })
    yield headerBytes(meta, g, values.dtype, values.rescale, options)
    for await (const v of values.slices) yield sliceBytes(v, g.nx, g.ny, values.dtype, flipRows)
  }, { ...options?.write, gzip: path.endsWith('.gz'), signal: options?.signal })
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
