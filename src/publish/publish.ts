import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { buildDatasetDag, buildImageDag, buildVolumeDag } from '../chunker/index.js'
import { CodecPool, getDefaultPool } from '../codec/index.js'
import { MistError } from '../errors.js'
import { readInput } from '../formats/index.js'
import type { BlockStore } from '../repo/index.js'
import type { ImageMeta, OperationOptions, ProgressEvent, RasterImage } from '../types.js'
import { collectInputs, type InputFile } from './collect.js'

/** Bytes a getter moves for one level. */
export interface LevelSummary { level: number, width: number, height: number, bytes: number }

export interface PublishedItem {
  path: string
  name: string
  kind: 'image' | 'volume'
  root: CID
  /** Number of 2D images (1, or the slice count of a volume). */
  images: number
  levels: LevelSummary[]
}

export interface PublishFailure {
  path: string
  error: { name: string, message: string }
}

export interface PublishResult {
  /** The dataset root for a directory or several inputs; the item's own root for one file. Absent if nothing was published. */
  root?: CID
  items: PublishedItem[]
  failures: PublishFailure[]
  /** Bytes of new blocks written to the repo. */
  bytesWritten: number
}

export type PublishProgressEvent =
  | ProgressEvent<'publish:start', { files: number }>
  | ProgressEvent<'publish:image', { path: string, pixels: number }>
  | ProgressEvent<'publish:file', { path: string, ok: boolean, error?: string }>

export interface PublishOptions extends OperationOptions<PublishProgressEvent> {
  repo: BlockStore
  /** Codec workers; default: the shared pool with one worker per core. */
  pool?: CodecPool
  /** Override the number of wavelet decompositions (default: coarsest level <= 64 px). */
  decompositions?: number
  /** Pin the published root (default true). */
  pin?: boolean
}

/**
 * Publishes files and directories into the repo: read, encode (all cores), chunk into
 * level blocks, store, and pin the root. A file that fails is reported in `failures`
 * with the reason; the others are still published.
 */
export async function publish (paths: string[], options: PublishOptions): Promise<PublishResult> {
  const { repo, signal, onProgress } = options
  const pool = options.pool ?? getDefaultPool()
  const { files, isDataset } = await collectInputs(paths, { exclude: [repo.path] })
  onProgress?.({ type: 'publish:start', detail: { files: files.length } })

  // Encodes go through one queue so that the workers stay busy across files and slices
  // without holding a whole dataset in memory.
  const encodeQueue = new PQueue({ concurrency: Math.max(2, pool.stats().workers * 2) })
  const fileQueue = new PQueue({ concurrency: 2 })
  const result: PublishResult = { items: [], failures: [], bytesWritten: 0 }
  const items = new Map<InputFile, PublishedItem>()

  const publishImage = async (file: InputFile, image: RasterImage, meta: ImageMeta): Promise<{ root: CID, levels: LevelSummary[] }> => {
    return encodeQueue.add(async () => {
      signal?.throwIfAborted()
      const codestream = await pool.encode(image, { decompositions: options.decompositions, signal })
      const dag = await buildImageDag(codestream, image, meta, { name: file.path })
      result.bytesWritten += await repo.putBlocks(dag.blocks, { signal })
      onProgress?.({ type: 'publish:image', detail: { path: file.path, pixels: image.width * image.height } })
      return { root: dag.root, levels: dag.levels }
    }) as Promise<{ root: CID, levels: LevelSummary[] }>
  }

  const publishFile = async (file: InputFile): Promise<void> => {
    try {
      signal?.throwIfAborted()
      const input = await readInput(file.path, { signal })
      if (input.kind === 'image') {
        const { root, levels } = await publishImage(file, input.image, input.meta)
        items.set(file, { path: file.path, name: file.name, kind: 'image', root, images: 1, levels })
      } else {
        const pending: Array<Promise<{ root: CID, levels: LevelSummary[] }>> = []
        const sliceMeta: ImageMeta = { sourceFormat: input.meta.sourceFormat, modality: input.meta.modality, spacing: [input.meta.spacing[0], input.meta.spacing[1]], rescale: input.meta.rescale }
        for await (const slice of input.slices()) {
          // back-pressure: do not read far ahead of the encoders
          while (encodeQueue.size > encodeQueue.concurrency * 2) await encodeQueue.onSizeLessThan(encodeQueue.concurrency)
          pending.push(publishImage(file, slice, sliceMeta))
          pending[pending.length - 1].catch(() => {})
        }
        const slices = await Promise.all(pending)
        const dag = await buildVolumeDag(input.meta, slices)
        result.bytesWritten += await repo.putBlocks(dag.blocks, { signal })
        items.set(file, { path: file.path, name: file.name, kind: 'volume', root: dag.root, images: slices.length, levels: dag.levels })
      }
      onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: true } })
    } catch (err: any) {
      if (signal?.aborted === true) throw err
      const error = describeError(err, file.path)
      result.failures.push({ path: file.path, error })
      onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: false, error: error.message } })
    }
  }

  try {
    await Promise.all(files.map(async file => fileQueue.add(async () => publishFile(file))))
  } finally {
    encodeQueue.clear()
  }
  signal?.throwIfAborted()
  result.items = files.flatMap(f => items.has(f) ? [items.get(f) as PublishedItem] : [])

  if (result.items.length === 0) return result
  if (isDataset) {
    const dag = await buildDatasetDag(result.items.map(i => ({ name: i.name, root: i.root, kind: i.kind, levels: i.levels })))
    result.bytesWritten += await repo.putBlocks(dag.blocks, { signal })
    result.root = dag.root
  } else {
    result.root = result.items[0].root
  }
  if (options.pin !== false) await repo.pin(result.root as CID, { signal })
  return result
}

/** A failure as the user sees it: the error's class name and a message that names the file. */
export function describeError (err: any, path: string): { name: string, message: string } {
  const name = err instanceof MistError || typeof err?.name === 'string' ? String(err.name) : 'Error'
  let message = String(err?.message ?? err)
  if (!message.includes(path)) message = `${path}: ${message}`
  return { name, message }
}
