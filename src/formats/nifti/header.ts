/**
 * NIfTI-1 and NIfTI-2 header parsing and validation, either byte order.
 * Produces the VolumeMeta and the facts needed to cut the voxel data into
 * 3D volumes and slices. Free-text fields (descrip, aux_file, intent_name)
 * and extensions are read only when keepText is asked for.
 */
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { VolumeMeta } from '../../types.js'
import { checkDimensions, checkFrame } from '../limits.js'
import { NIFTI1, NIFTI1_TEXT, NIFTI2, datatypeByCode, type NiftiDatatype } from './layout.js'
import { diagonalAffine, quaternToAffine } from './affine.js'

/** A parsed, validated NIfTI header. */
export interface NiftiHeader {
  littleEndian: boolean
  version: 1 | 2
  datatype: NiftiDatatype
  /** One 3D volume: [nx, ny, nz]. */
  dims: [number, number, number]
  /** Number of 3D volumes (dim[4]; 1 for 2D/3D files). */
  volumes: number
  voxOffset: number
  /** bytes of voxel data of all volumes */
  dataBytes: number
  meta: VolumeMeta
}

/** Bytes to read before the header can be parsed (NIfTI-2 is the larger). */
export const NIFTI_HEADER_BYTES = 540

interface Fields { dim: number[], datatype: number, pixdim: number[], voxOffset: number, slope: number, inter: number, qformCode: number, sformCode: number, quatern: number[], qoffset: number[], srow: number[], xyztUnits: number, text: [number, number, number] }

/** Parses the header at the start of bytes (a .nii or a decompressed .nii.gz prefix). With keepText, bytes must reach vox_offset for extensions. */
export function parseNiftiHeader (label: string, bytes: Uint8Array, options?: { keepText?: boolean }): NiftiHeader {
  if (bytes.length < NIFTI1.headerSize) throw new InvalidInputError(`${label}: truncated NIfTI: ${bytes.length} bytes, the header alone needs 348`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const sizeLE = view.getInt32(0, true)
  const sizeBE = view.getInt32(0, false)
  const version = sizeLE === 540 || sizeBE === 540 ? 2 : 1
  if (version === 1 && sizeLE !== 348 && sizeBE !== 348) throw new InvalidInputError(`${label}: not a NIfTI file (sizeof_hdr is ${sizeLE})`)
  const le = version === 2 ? sizeLE === 540 : sizeLE === 348
  if (version === 2 && bytes.length < NIFTI2.headerSize) throw new InvalidInputError(`${label}: truncated NIfTI-2: ${bytes.length} bytes, the header alone needs 540`)
  const magic = String.fromCharCode(...bytes.subarray(version === 2 ? NIFTI2.magic : NIFTI1.magic, (version === 2 ? NIFTI2.magic : NIFTI1.magic) + 3))
  if (magic === `ni${version}`) throw new UnsupportedInputError(`${label}: NIfTI-${version} .hdr/.img pairs are not supported yet (use a single-file .nii)`)
  if (magic !== `n+${version}`) throw new InvalidInputError(`${label}: not a NIfTI-${version} file (magic "${magic}")`)
  const f = version === 2 ? fields2(view, le) : fields1(view, le)
  const ndim = f.dim[0]
  if (ndim < 1 || ndim > 7) throw new InvalidInputError(`${label}: corrupt NIfTI header: dim[0] = ${ndim}`)
  const shape = f.dim.slice(1, ndim + 1)
  const datatype = datatypeByCode(f.datatype)
  if (datatype == null) throw new InvalidInputError(`${label}: corrupt NIfTI header: unknown datatype code ${f.datatype}`)
  const what = `${shape.join('x')} ${datatype.name}`
  checkDimensions(label, shape, Math.max(datatype.bytes, 1), what)
  if (shape.slice(4).some(n => n !== 1)) {
    throw new UnsupportedInputError(`${label}: ${ndim}D NIfTI (${what}) is not supported: only 2D, 3D and 4D (a series of 3D volumes)`)
  }
  if (!datatype.supported) throw new UnsupportedInputError(`${label}: NIfTI datatype ${datatype.name} (${what}) is not supported`)
  const dims: [number, number, number] = [shape[0], shape[1] ?? 1, shape[2] ?? 1]
  const volumes = shape[3] ?? 1
  // each slice becomes one image (16-bit once mapped when wider): refuse what the codec could not take
  checkFrame(label, dims[0], dims[1], datatype.components, datatype.bytes > 2 ? 2 : datatype.bytes / datatype.components, `NIfTI ${what}`)
  if (!Number.isInteger(f.voxOffset) || f.voxOffset < (version === 2 ? 540 : 348)) throw new InvalidInputError(`${label}: corrupt NIfTI header: vox_offset ${f.voxOffset}`)
  const spacing: [number, number, number] = [f.pixdim[1], f.pixdim[2], f.pixdim[3]]
  const qfac = f.pixdim[0] < 0 ? -1 : 1
  const affine = f.sformCode > 0
    ? [...f.srow, 0, 0, 0, 1]
    : f.qformCode > 0 ? quaternToAffine(f.quatern, f.qoffset, spacing, qfac) : diagonalAffine(spacing)
  const meta: VolumeMeta = {
    sourceFormat: 'nifti',
    dims,
    spacing,
    affine,
    dtype: datatype.name,
    nifti: { qformCode: f.qformCode, sformCode: f.sformCode, xyztUnits: f.xyztUnits, quatern: f.quatern, qoffset: f.qoffset, qfac }
  }
  if (f.slope !== 0 && Number.isFinite(f.slope) && Number.isFinite(f.inter) && !(f.slope === 1 && f.inter === 0)) meta.rescale = { slope: f.slope, intercept: f.inter }
  if (options?.keepText === true) meta.text = readText(bytes, view, le, f, version)
  const dataBytes = dims[0] * dims[1] * dims[2] * volumes * datatype.bytes
  return { littleEndian: le, version, datatype, dims, volumes, voxOffset: f.voxOffset, dataBytes, meta }
}

function fields1 (view: DataView, le: boolean): Fields {
  const i16 = (o: number): number => view.getInt16(o, le)
  const f32 = (o: number): number => view.getFloat32(o, le)
  return {
    dim: Array.from({ length: 8 }, (_, i) => i16(NIFTI1.dim + 2 * i)),
    datatype: i16(NIFTI1.datatype),
    pixdim: Array.from({ length: 8 }, (_, i) => f32(NIFTI1.pixdim + 4 * i)),
    voxOffset: f32(NIFTI1.voxOffset),
    slope: f32(NIFTI1.sclSlope),
    inter: f32(NIFTI1.sclInter),
    qformCode: i16(NIFTI1.qformCode),
    sformCode: i16(NIFTI1.sformCode),
    quatern: [0, 1, 2].map(i => f32(NIFTI1.quatern + 4 * i)),
    qoffset: [0, 1, 2].map(i => f32(NIFTI1.qoffset + 4 * i)),
    srow: Array.from({ length: 12 }, (_, i) => f32(NIFTI1.srow + 4 * i)),
    xyztUnits: view.getUint8(NIFTI1.xyztUnits),
    text: [NIFTI1_TEXT.descrip, NIFTI1_TEXT.auxFile, NIFTI1_TEXT.intentName]
  }
}

function fields2 (view: DataView, le: boolean): Fields {
  const i64 = (o: number): number => Number(view.getBigInt64(o, le))
  const f64 = (o: number): number => view.getFloat64(o, le)
  return {
    dim: Array.from({ length: 8 }, (_, i) => i64(NIFTI2.dim + 8 * i)),
    datatype: view.getInt16(NIFTI2.datatype, le),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(NIFTI2.pixdim + 8 * i)),
    voxOffset: i64(NIFTI2.voxOffset),
    slope: f64(NIFTI2.sclSlope),
    inter: f64(NIFTI2.sclInter),
    qformCode: view.getInt32(NIFTI2.qformCode, le),
    sformCode: view.getInt32(NIFTI2.sformCode, le),
    quatern: [0, 1, 2].map(i => f64(NIFTI2.quatern + 8 * i)),
    qoffset: [0, 1, 2].map(i => f64(NIFTI2.qoffset + 8 * i)),
    srow: Array.from({ length: 12 }, (_, i) => f64(NIFTI2.srow + 8 * i)),
    xyztUnits: view.getInt32(NIFTI2.xyztUnits, le),
    text: [NIFTI2.descrip, NIFTI2.auxFile, NIFTI2.intentName]
  }
}

function readText (bytes: Uint8Array, view: DataView, le: boolean, f: Fields, version: 1 | 2): NonNullable<VolumeMeta['text']> {
  const str = (o: number, n: number): string => Buffer.from(bytes.subarray(o, o + n)).toString('latin1').replace(/\0.*$/s, '')
  const text: NonNullable<VolumeMeta['text']> = { descrip: str(f.text[0], 80), auxFile: str(f.text[1], 24), intentName: str(f.text[2], 16), extensions: [] }
  let at = version === 2 ? 540 : 348
  if (at + 4 <= bytes.length && bytes[at] !== 0) {
    at += 4
    while (at + 8 <= Math.min(f.voxOffset, bytes.length)) {
      const size = view.getInt32(at, le)
      const code = view.getInt32(at + 4, le)
      if (size < 8 || at + size > f.voxOffset) break
      text.extensions?.push({ code, data: bytes.slice(at + 8, at + size) })
      at += size
    }
  }
  return text
}
