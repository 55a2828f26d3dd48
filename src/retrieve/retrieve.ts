import { resolve, join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { datasetEntries } from '../chunker/index.js'
import type { CodecPool } from '../codec/index.js'
import { UsageError } from '../errors.js'
import { describeError } from '../publish/publish.js'
import type { BlockSource } from '../repo/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { decodeImageLevel } from './image-level.js'
import { defaultFormat, extensionFor, volumeIsDirectory, writeImageOutput, writeVolumeOutput, type OutputFormat } from './output.js'
import { readRoot, type AnyRoot } from './read-root.js'
import { chooseLevel, type LevelSelection } from './select.js'
import { volumeLevelSlices } from './volume-slices.js'

export type RetrieveProgressEvent =
  | ProgressEvent<'retrieve:planned', { bytes: number }>
  | ProgressEvent<'retrieve:bytes', { bytes: number }>
  | ProgressEvent<'retrieve:written', { name: string, paths: string[] }>

export interface RetrieveOptions extends LevelSelection, OperationOptions<RetrieveProgressEvent> {
  /** Output file (image, volume) or directory (dataset). Default: `<cid>-L<level>.<ext>` / `<cid>/`. */
  out?: string
  format?: OutputFormat
  pool?: CodecPool
  /** nii and npy outputs: real-world values (rescale applied) instead of stored values; images then default to nii. */
  applyRescale?: boolean
  /** Images of a dataset handled at once (default 8). */
  concurrency?: number
}

export interface RetrievedOutput {
  name: string
  root: string
  kind: 'image' | 'volume'
  level: number
  width: number
  height: number
  /** Bytes of the level's blocks (what a getter moves for it). */
  bytes: number
  paths: string[]
}

export interface RetrieveResult {
  root: string
  kind: AnyRoot['kind']
  outputs: RetrievedOutput[]
  failures: Array<{ name: string, error: { name: string, message: string } }>
}

/** Fetches the selected level of a root (image, volume or dataset) and writes image files. */
export async function retrieve (source: BlockSource, cid: CID, options: RetrieveOptions = {}): Promise<RetrieveResult> {
  const { signal, onProgress } = options
  const found = await readRoot(source, cid, { signal })
  const result: RetrieveResult = { root: cid.toString(), kind: found.kind, outputs: [], failures: [] }
  const onBytes = (bytes: number): void => onProgress?.({ type: 'retrieve:bytes', detail: { bytes } })
  const outputOptions = { applyRescale: options.applyRescale, pool: options.pool, signal }

  const one = async (entry: AnyRoot, name: string, out: string | undefined, clamp: boolean): Promise<RetrievedOutput> => {
    if (entry.kind === 'image') {
      const root = entry.root
      const level = chooseLevel(root.levels, options, { clamp, name })
      const info = root.levels.find(l => l.level === level)!
      onProgress?.({ type: 'retrieve:planned', detail: { bytes: info.bytes } })
      const got = await decodeImageLevel(source, entry.cid, root, level, { ...options, onBytes, name })
      const format = options.format ?? defaultFormat('image', got.image, options.applyRescale === true)
      const path = out ?? resolve(`${entry.cid}-L${level}${extensionFor(format)}`)
      const paths = await writeImageOutput(path, format, root, got, outputOptions)
      onProgress?.({ type: 'retrieve:written', detail: { name, paths } })
      return { name, root: entry.cid.toString(), kind: 'image', level, width: info.width, height: info.height, bytes: info.bytes, paths }
    }
    if (entry.kind === 'volume') {
      const root = entry.root
      const level = chooseLevel(root.levels, options, { clamp, name })
      const info = root.levels.find(l => l.level === level)!
      onProgress?.({ type: 'retrieve:planned', detail: { bytes: info.bytes } })
      const format = options.format ?? 'nii'
      const path = out ?? resolve(`${entry.cid}-L${level}${volumeIsDirectory(format) ? '' : extensionFor(format)}`)
      // the slices are decoded as the writer takes them: the volume is never held in memory
      const slices = volumeLevelSlices(source, entry.cid, root, level, { ...options, onBytes, name })
      const paths = await writeVolumeOutput(path, format, { root, level, meta: root.meta, slices }, outputOptions)
      onProgress?.({ type: 'retrieve:written', detail: { name, paths } })
      return { name, root: entry.cid.toString(), kind: 'volume', level, width: info.width, height: info.height, bytes: info.bytes, paths }
    }
    throw new UsageError(`${name}: a dataset inside a dataset is not supported`)
  }

  if (found.kind !== 'dataset') {
    result.outputs.push(await one(found, cid.toString(), options.out != null ? resolve(options.out) : undefined, false))
    return result
  }

  const outDir = resolve(options.out ?? cid.toString())
  const getBlock = async (c: CID): Promise<Uint8Array> => source.get(c, { signal })
  const concurrency = options.concurrency ?? 8
  const running = new Set<Promise<void>>()
  for await (const entry of datasetEntries(found.root, getBlock)) {
    signal?.throwIfAborted()
    const task = (async () => {
      try {
        const child = await readRoot(source, entry.root, { signal })
        const format = options.format ?? (child.kind === 'volume' ? 'nii' : undefined)
        const base = join(outDir, stripImageExtension(entry.name))
        const out = format != null && volumeIsDirectory(format) && child.kind === 'volume' ? base : format != null ? base + extensionFor(format) : undefined
        const output = await one(child, entry.name, out ?? await defaultImagePath(base, child, options.applyRescale === true), true)
        result.outputs.push(output)
      } catch (err: any) {
        if (signal?.aborted === true) throw err
        result.failures.push({ name: entry.name, error: describeError(err, entry.name) })
      }
    })()
    running.add(task)
    void task.finally(() => running.delete(task))
    if (running.size >= concurrency) await Promise.race(running)
  }
  await Promise.all(running)
  result.outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return result
}

async function defaultImagePath (base: string, child: AnyRoot, applyRescale: boolean): Promise<string> {
  if (child.kind !== 'image') return base + '.nii'
  return base + extensionFor(defaultFormat('image', child.root, applyRescale))
}

/** `ct/scan.nii.gz` -> `ct/scan`, `a/b.png` -> `a/b`, `fmri.nii.gz#t03` -> `fmri#t03` (a volume of a 4D file); names without a known image extension stay. */
export function stripImageExtension (name: string): string {
  return name.replace(/\.(nii\.gz|nii|png|dcm|dicom|j2c|j2k|jph)(#t\d+)?$/i, '$2')
}
