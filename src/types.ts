/**
 * Core data types shared by every module of mist-p2p.
 */

/** Samples of one 2D frame, interleaved by component, row-major. */
export type SampleArray = Uint8Array | Int8Array | Uint16Array | Int16Array

/** One 2D raster as the codec sees it. */
export interface RasterImage {
  width: number
  height: number
  /** 1 (gray) or 3 (RGB, 8-bit only in this WASM build). */
  components: number
  /** Bits actually used per sample, 1..16. */
  bitsStored: number
  signed: boolean
  /** length === width * height * components. Uint8Array/Int8Array for bitsStored <= 8, 16-bit arrays otherwise. */
  data: SampleArray
}

/** Technical metadata of a published image. Never patient identifiers. */
export interface ImageMeta {
  /** 'png' | 'nifti' | 'dicom' | 'synthetic' */
  sourceFormat: string
  /** DICOM modality (CT, MR, CR, ...) when known. */
  modality?: string
  /** Source transfer syntax UID for DICOM. */
  transferSyntax?: string
  /** DICOM photometric interpretation (MONOCHROME1, MONOCHROME2, RGB, ...). */
  photometric?: string
  /** Physical size of one pixel: [column spacing (x, along a row), row spacing (y, down a column)], in mm. */
  spacing?: [number, number]
  /** DICOM ImageOrientationPatient (6 direction cosines). */
  orientation?: number[]
  /** DICOM ImagePositionPatient (3 values, mm). */
  position?: number[]
  /** Real-world value = slope * stored + intercept. */
  rescale?: { slope: number, intercept: number }
  /** Bits allocated in the source container (8, 16). */
  bitsAllocated?: number
  /** The source was lossily compressed (JPEG baseline/extended, JPEG-LS near-lossless, irreversible JPEG 2000/HTJ2K, LossyImageCompression 01, chroma-subsampled or colour-converted YCbCr): the published copy is exact to the decoded source, not to the original acquisition. */
  lossySource?: boolean
  /** How the published 16-bit samples map back to the source values (sources with more than 16 bits per sample). */
  valueMapping?: ValueMapping
}

/** Published 16-bit sample s stands for source value slope * s + intercept, stored in the source as dtype. */
export interface ValueMapping {
  slope: number
  intercept: number
  /** Source datatype: 'int32' | 'uint32' | 'float32' | 'float64' | 'int16' | ... */
  dtype: string
  /** Largest |source - restored| over the whole image: 0 when lossless. */
  maxAbsError: number
}

/** Technical metadata of a published volume (NIfTI, or later a DICOM series). */
export interface VolumeMeta {
  sourceFormat: string
  modality?: string
  /** Voxel grid: [nx, ny, nz] (slices along z, each slice nx * ny). */
  dims: [number, number, number]
  /** Voxel size in mm: [dx, dy, dz]. */
  spacing: [number, number, number]
  /** 4x4 voxel->RAS+ (NIfTI convention) affine, row-major, 16 numbers. */
  affine: number[]
  /** NIfTI datatype name of the source: 'uint8' | 'int16' | 'uint16' | ... */
  dtype: string
  rescale?: { slope: number, intercept: number }
  /** NIfTI qform/sform codes and xyzt units, kept for faithful output. */
  nifti?: { qformCode: number, sformCode: number, xyztUnits: number, quatern?: number[], qoffset?: number[], qfac?: number }
  /** See ImageMeta.lossySource. */
  lossySource?: boolean
  /** See ImageMeta.valueMapping. */
  valueMapping?: ValueMapping
  /** Position of this 3D volume in a 4D source (index from 0, count of volumes); absent for 3D sources. */
  frame?: { index: number, count: number }
  /** Free-text NIfTI fields and extensions, only with readInput(..., { keepText: true }). */
  text?: { descrip?: string, auxFile?: string, intentName?: string, extensions?: Array<{ code: number, data: Uint8Array }> }
}

/** What a format reader yields for one input file. */
export type InputItem =
  | { kind: 'image', image: RasterImage, meta: ImageMeta }
  | {
    kind: 'volume'
    meta: VolumeMeta
    sliceCount: number
    slices: () => AsyncIterable<RasterImage>
    /** Releases the file the slices are read from, for a reader that stops before the last item's last slice. */
    close?: () => Promise<void>
  }

/** A content-addressed block ready for a blockstore. */
export interface Block {
  cid: import('multiformats/cid').CID
  bytes: Uint8Array
}

/** What every operation that can wait takes: a signal that stops it. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** Every long operation takes these. */
export interface OperationOptions<E = ProgressEvent> extends AbortOptions {
  onProgress?: (event: E) => void
}

/** Named progress events, as in helia. */
export interface ProgressEvent<T extends string = string, D = unknown> {
  type: T
  detail: D
}

/** Which resolution a user asks for: a level index (0 = coarsest), 'full', or a target size. */
export interface LevelSelection {
  level?: number | 'full'
  /** The coarsest level whose longer side is at least this many pixels (the full level if none is). */
  size?: number
}
