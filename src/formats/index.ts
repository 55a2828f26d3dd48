/**
 * Input and output of image files: format detection by magic numbers and
 * one reader/writer module per format.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { InputItem, AbortOptions } from '../types.js'
import { readDicomItems } from './dicom/read.js'
import { gunzipFileBounded } from './dicom/file.js'
import { gunzipFilePrefix } from './gunzip-prefix.js'
import { MAX_INFLATED_BYTES } from './limits.js'
import { readInputBytes, readInputHead } from './input-file.js'
import { NIFTI_HEADER_BYTES } from './nifti/header.js'
import { readNiftiBytes, readNiftiFile, readNiftiGzipFile, type NiftiReadOptions } from './nifti/read.js'
import { readPngBytes } from './png/read.js'
import { sniffFormat } from './sniff.js'

export { sniffFormat, type SniffedFormat } from './sniff.js'
export { encodePng, writePng } from './png/write.js'
export { encodePngOnPool } from './png/job.js'
export { encodeNifti, writeNifti, writeNiftiStream, flipAffineRows, type NiftiWriteOptions } from './nifti/write.js'
export { outputValues, streamOutputValues, type NiftiValues, type ValueStream } from './output-values.js'
export { imageToVolumeMeta } from './image-to-volume.js'
export { MAX_SIDE, MAX_BYTES, MAX_INFLATED_BYTES } from './limits.js'
export { isDicomFile } from './dicom/file.js'
export { mapTo16, unmap16, type Mapped16, type SourceArray } from './value-map.js'
export type { NiftiReadOptions } from './nifti/read.js'

/** Options of readInput / readInputs. */
export interface ReadOptions extends NiftiReadOptions, AbortOptions {
}

/** Reads an image or volume file; the format comes from its bytes, not its name. A 4D NIfTI with several volumes is refused: use readInputs. */
export async function readInput (path: string, options?: ReadOptions): Promise<InputItem> {
  const items = await readInputs(path, options)
  if (items.length !== 1) throw new UnsupportedInputError(`${path}: 4D NIfTI holding ${items.length} volumes: read it with readInputs (one item per 3D volume)`)
  return items[0]
}

/**
 * Reads a file into its items: one for images and 3D volumes, one per 3D volume for a 4D NIfTI.
 * NIfTI files (.nii, .nii.gz) are not held: their header is read now and each slice when
 * iterated; call each item's close() when done with a file whose items are not all iterated.
 */
export async function readInputs (path: string, options?: ReadOptions): Promise<InputItem[]> {
  const signal = options?.signal
  const { head, size } = await readInputHead(path, NIFTI_HEADER_BYTES, { signal })
  // NIfTI and gzip are told from the first bytes; the other formats from the whole file, as always
  const early = sniffFormat(head)
  if (early === 'nifti') return await readNiftiFile(path, size, options)
  if (early === 'gzip') return await readGzip(path, signal, options)
  const bytes = await readInputBytes(path, { signal })
  const format = sniffFormat(bytes)
  switch (format) {
    case 'png': return [readPngBytes(path, bytes)]
    case 'nifti': return await readNiftiBytes(path, bytes, options)
    case 'dicom': return await readDicomItems(path, bytes)
    case 'gzip': return await readGzip(path, signal, options)
    default:
      throw new InvalidInputError(`${path}: not a recognised image file (expected PNG, NIfTI .nii/.nii.gz or DICOM)`)
  }
}

/** A gzip file: NIfTI (inflated as it is read) or DICOM (inflated whole, bounded) inside. */
async function readGzip (path: string, signal?: AbortSignal, options?: NiftiReadOptions): Promise<InputItem[]> {
  let inner: ReturnType<typeof sniffFormat>
  await gunzipFilePrefix(path, 540, head => {
    inner = sniffFormat(head)
    return { need: head.length, keep: 0 }
  }, { signal })
  if (inner === 'nifti') return await readNiftiGzipFile(path, { ...options, signal })
  if (inner === 'dicom') return await readDicomItems(path, await gunzipFileBounded(path, MAX_INFLATED_BYTES, { signal }))
  if (inner == null) throw new InvalidInputError(`${path}: gzip file whose content is not a recognised image (or the gzip stream is corrupt)`)
  throw new UnsupportedInputError(`${path}: gzip-compressed ${inner} is not supported (only .nii.gz and .dcm.gz)`)
}
export { readSeries, planSeries, readSeriesGroup, seriesItems, type SeriesGroup } from './dicom/series.js'
export { encodeNpy, npyChunks, writeNpyStream, type NpySlice } from './npy/write.js'
export { encodeDicomHTJ2K, freshUid, derivedUid, decimalString, HTJ2K_LOSSLESS_RPCL, SECONDARY_CAPTURE, type DicomHTJ2KInput } from './dicom/write.js'
