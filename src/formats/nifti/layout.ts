/**
 * NIfTI-1 header layout (byte offsets of the fields mist-p2p reads or writes)
 * and the datatype table. Shared by the reader and the writer.
 */

/** Byte offsets in the 348-byte NIfTI-1 header. */
export const NIFTI1 = {
  sizeofHdr: 0,
  dim: 40, // int16[8]
  intentCode: 68,
  datatype: 70,
  bitpix: 72,
  pixdim: 76, // float32[8]
  voxOffset: 108,
  sclSlope: 112,
  sclInter: 116,
  xyztUnits: 123,
  qformCode: 252,
  sformCode: 254,
  quatern: 256, // b, c, d
  qoffset: 268, // x, y, z
  srow: 280, // float32[12]: srow_x, srow_y, srow_z
  magic: 344,
  headerSize: 348,
  /** vox_offset of a single-file .nii written by us: header + 4-byte extension flag. */
  dataOffset: 352
} as const

/** Byte offsets in the 540-byte NIfTI-2 header. */
export const NIFTI2 = {
  magic: 4,
  datatype: 12,
  bitpix: 14,
  dim: 16, // int64[8]
  pixdim: 104, // float64[8]
  voxOffset: 168, // int64
  sclSlope: 176,
  sclInter: 184,
  descrip: 240,
  auxFile: 320,
  qformCode: 344,
  sformCode: 348,
  quatern: 352, // float64 b, c, d
  qoffset: 376, // float64 x, y, z
  srow: 400, // float64[12]
  xyztUnits: 500, // int32
  intentName: 508,
  headerSize: 540
} as const

/** Offsets of the NIfTI-1 free-text fields. */
export const NIFTI1_TEXT = { descrip: 148, auxFile: 228, intentName: 328 } as const

/** One NIfTI datatype. */
export interface NiftiDatatype {
  code: number
  name: string
  /** bytes per voxel */
  bytes: number
  /** supported by the reader and writer today */
  supported: boolean
  signed: boolean
  /** samples per voxel (3 for RGB24) */
  components: number
}

const TABLE: NiftiDatatype[] = [
  { code: 2, name: 'uint8', bytes: 1, supported: true, signed: false, components: 1 },
  { code: 256, name: 'int8', bytes: 1, supported: true, signed: true, components: 1 },
  { code: 4, name: 'int16', bytes: 2, supported: true, signed: true, components: 1 },
  { code: 512, name: 'uint16', bytes: 2, supported: true, signed: false, components: 1 },
  { code: 128, name: 'rgb24', bytes: 3, supported: true, signed: false, components: 3 },
  { code: 1, name: 'binary (1-bit)', bytes: 0, supported: false, signed: false, components: 1 },
  { code: 8, name: 'int32', bytes: 4, supported: true, signed: true, components: 1 },
  { code: 768, name: 'uint32', bytes: 4, supported: true, signed: false, components: 1 },
  { code: 1024, name: 'int64', bytes: 8, supported: false, signed: true, components: 1 },
  { code: 1280, name: 'uint64', bytes: 8, supported: false, signed: false, components: 1 },
  { code: 16, name: 'float32', bytes: 4, supported: true, signed: true, components: 1 },
  { code: 64, name: 'float64', bytes: 8, supported: true, signed: true, components: 1 },
  { code: 1536, name: 'float128', bytes: 16, supported: false, signed: true, components: 1 },
  { code: 32, name: 'complex64', bytes: 8, supported: false, signed: true, components: 2 },
  { code: 1792, name: 'complex128', bytes: 16, supported: false, signed: true, components: 2 },
  { code: 2048, name: 'complex256', bytes: 32, supported: false, signed: true, components: 2 },
  { code: 2304, name: 'rgba32', bytes: 4, supported: false, signed: false, components: 4 }
]

/** Datatype by NIfTI code, or undefined for an unknown code. */
export function datatypeByCode (code: number): NiftiDatatype | undefined {
  return TABLE.find(t => t.code === code)
}

/** Datatype by name ('uint8', 'int16', ...), or undefined. */
export function datatypeByName (name: string): NiftiDatatype | undefined {
  return TABLE.find(t => t.name === name)
}
