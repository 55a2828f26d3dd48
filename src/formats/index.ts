/**
 * Input and output of image files: format detection by magic numbers and
 * one reader/writer module per format.
 */
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { InputItem } from '../types.js'
import { readDicomBytes } from './dicom-read.js'
import { gunzipPrefix } from './gunzip-prefix.js'
import { readInputBytes } from './input-file.js'
import { readNiftiBytes, readNiftiGzip } from './nifti-read.js'
import { readPngBytes } from './png-read.js'
import { sniffFormat } from './sniff.js'

export { sniffFormat, type SniffedFormat } from './sniff.js'
export { encodePng, writePng } from './png-write.js'
export { encodeNifti, writeNifti, type NiftiWriteOptions } from './nifti-write.js'
export { imageToVolumeMeta } from './image-to-volume.js'
export { MAX_SIDE, MAX_BYTES } from './limits.js'

/** Reads an image or volume file; the format comes from its bytes, not its name. */
export async function readInput (path: string, options?: { signal?: AbortSignal }): Promise<InputItem> {
  const signal = options?.signal
  const bytes = await readInputBytes(path, signal)
  const format = sniffFormat(bytes)
  switch (format) {
    case 'png': return readPngBytes(path, bytes)
    case 'nifti': return readNiftiBytes(path, bytes)
    case 'dicom': return readDicomBytes(path, bytes)
    case 'gzip': return await readGzip(path, bytes, signal)
    default:
      throw new InvalidInputError(`${path}: not a recognised image file (expected PNG, NIfTI-1 .nii/.nii.gz or DICOM)`)
  }
}

/** A gzip file: only NIfTI inside is supported. */
async function readGzip (path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<InputItem> {
  let inner: ReturnType<typeof sniffFormat>
  await gunzipPrefix(bytes, 540, head => {
    inner = sniffFormat(head)
    return head.length
  }, signal)
  if (inner === 'nifti') return await readNiftiGzip(path, bytes, signal)
  if (inner == null) throw new InvalidInputError(`${path}: gzip file whose content is not a recognised image (or the gzip stream is corrupt)`)
  throw new UnsupportedInputError(`${path}: gzip-compressed ${inner} is not supported (only .nii.gz)`)
}
