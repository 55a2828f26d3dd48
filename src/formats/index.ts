/**
 * Input and output of image files: format detection by magic numbers and
 * one reader/writer module per format.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { InputItem } from '../types.js'
import { readDicomBytes } from './dicom-read.js'
import { gunzipPrefix } from './gunzip-prefix.js'
import { readInputBytes } from './input-file.js'
import { readNiftiBytes, readNiftiGzip, type NiftiReadOptions } from './nifti-read.js'
import { readPngBytes } from './png-read.js'
import { sniffFormat } from './sniff.js'

export { sniffFormat, type SniffedFormat } from './sniff.js'
export { encodePng, writePng } from './png-write.js'
export { encodeNifti, writeNifti, writeNiftiStream, flipAffineRows, type NiftiWriteOptions } from './nifti-write.js'
export { outputValues, streamOutputValues, type NiftiValues, type ValueStream } from './output-values.js'
export { imageToVolumeMeta } from './image-to-volume.js'
export { MAX_SIDE, MAX_BYTES } from './limits.js'
export { mapTo16, unmap16, type Mapped16, type SourceArray } from './value-map.js'
export type { NiftiReadOptions } from './nifti-read.js'

/** Options of readInput / readInputs. */
export interface ReadOptions extends NiftiReadOptions {
  signal?: AbortSignal
}

/** Reads an image or volume file; the format comes from its bytes, not its name. A 4D NIfTI with several volumes is refused: use readInputs. */
export async function readInput (path: string, options?: ReadOptions): Promise<InputItem> {
  const items = await readInputs(path, options)
  if (items.length !== 1) throw new UnsupportedInputError(`${path}: 4D NIfTI holding ${items.length} volumes: read it with readInputs (one item per 3D volume)`)
  return items[0]
}

/** Reads a file into its items: one for images and 3D volumes, one per 3D volume for a 4D NIfTI. */
export async function readInputs (path: string, options?: ReadOptions): Promise<InputItem[]> {
  const signal = options?.signal
  const bytes = await readInputBytes(path, signal)
  const format = sniffFormat(bytes)
  switch (format) {
    case 'png': return [readPngBytes(path, bytes)]
    case 'nifti': return readNiftiBytes(path, bytes, options)
    case 'dicom': return [await readDicomBytes(path, bytes)]
    case 'gzip': return await readGzip(path, bytes, signal, options)
    default:
      throw new InvalidInputError(`${path}: not a recognised image file (expected PNG, NIfTI .nii/.nii.gz or DICOM)`)
  }
}

/** A gzip file: only NIfTI inside is supported. */
async function readGzip (path: string, bytes: Uint8Array, signal?: AbortSignal, options?: NiftiReadOptions): Promise<InputItem[]> {
  let inner: ReturnType<typeof sniffFormat>
  await gunzipPrefix(bytes, 540, head => {
    inner = sniffFormat(head)
    return head.length
  }, signal)
  if (inner === 'nifti') return await readNiftiGzip(path, bytes, signal, options)
  if (inner == null) throw new InvalidInputError(`${path}: gzip file whose content is not a recognised image (or the gzip stream is corrupt)`)
  throw new UnsupportedInputError(`${path}: gzip-compressed ${inner} is not supported (only .nii.gz)`)
}
export { readSeries, planSeries, readSeriesGroup, type SeriesGroup } from './dicom-series.js'
export { encodeNpy, npyChunks, writeNpyStream, type NpySlice } from './npy-write.js'
export { encodeDicomHTJ2K, freshUid, decimalString, HTJ2K_LOSSLESS_RPCL, SECONDARY_CAPTURE, type DicomHTJ2KInput } from './dicom-write.js'
