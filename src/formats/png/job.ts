/**
 * PNG outputs on the codec pool's workers: filtering and deflate cost several times the HTJ2K
 * decode of a level, and on the main thread they bounded a getter.
 */
import { jobModuleUrl, type CodecPool, type JobControl } from '../../codec/index.js'
import type { RasterImage } from '../../types.js'
import { checkPngEncodable, encodePng } from './write.js'

/** What the worker runs (src/codec/worker.ts loads this module by its URL). */
export const runJob = encodePng

const MODULE = jobModuleUrl(import.meta.url)

/** encodePng() on a worker of `pool`; layout errors are thrown here, before a worker is asked. */
export async function encodePngOnPool (pool: CodecPool, image: RasterImage, options: JobControl = {}): Promise<Uint8Array> {
  checkPngEncodable(image)
  return await pool.runJob(MODULE, image, options)
}
