/**
 * The bytes of a DICOM input file, inflated when it is gzip-compressed
 * (`.dcm.gz`, told from the gzip magic, not the name), with the inflated size
 * bounded by MAX_INFLATED_BYTES before it is held.
 */
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import { gunzipFilePrefix } from '../gunzip-prefix.js'
import { readInputBytes, readInputHead } from '../input-file.js'
import { MAX_INFLATED_BYTES } from '../limits.js'
import { sniffFormat } from '../sniff.js'
import type { AbortOptions } from '../../types.js'

/** Whole file, inflated if it is gzip. */
export async function readDicomFileBytes (path: string, options: AbortOptions = {}): Promise<Uint8Array> {
  const { signal } = options
  // read once and told by its first bytes (a series is hundreds of small files: each file-system round trip counts)
  const bytes = await readInputBytes(path, { signal })
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return await gunzipFileBounded(path, MAX_INFLATED_BYTES, { signal })
  return bytes
}

/** Whether a file is DICOM, or gzip-compressed DICOM; false for what cannot be read (left to the reader's error). */
export async function isDicomFile (path: string, options: AbortOptions = {}): Promise<boolean> {
  const { signal } = options
  try {
    const { head } = await readInputHead(path, 1024, { signal })
    const format = sniffFormat(head)
    if (format !== 'gzip') return format === 'dicom'
    const { head: inner } = await gunzipFilePrefix(path, 1024, h => ({ need: h.length, keep: h.length }), { signal })
    return sniffFormat(inner) === 'dicom'
  } catch (err) {
    if (signal?.aborted === true) throw err
    return false
  }
}

/** Inflates a gzip file, refusing it as soon as more than `limit` bytes come out. */
export async function gunzipFileBounded (path: string, limit: number, options: AbortOptions = {}): Promise<Buffer> {
  // inflation stops one byte past the limit: a bomb costs at most `limit` bytes
  const got = await gunzipFilePrefix(path, 0, () => ({ need: limit + 1, keep: limit + 1 }), options)
  if (got.total > limit) throw new UnsupportedInputError(`${path}: gzip content is larger than the limit of ${limit} bytes once inflated`)
  if (got.error != null) throw new InvalidInputError(`${path}: corrupt or truncated gzip stream (${got.error.message})`, { cause: got.error })
  return got.head
}
