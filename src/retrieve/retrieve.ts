import { basename, join, relative, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { CodecPool } from '../codec/index.js'
import { describeError } from '../errors.js'
import { fetchLevelBlocks, type FetchLevelResult, type FetchProgressEvent } from '../level/fetch.js'
import type { EntrySelection } from '../level/entries.js'
import { hasEntriesUnder, lookupEntry, openRoot, planEntry, rootEntries, type EntryPlan } from '../level/plan.js'
import type { AnyRoot } from '../level/roots.js'
import type { LevelSelection } from '../level/select.js'
import type { BlockSource, TransferStats } from '../repo/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { decodeImageLevel } from './image-level.js'
import { defaultFormat, extensionFor, volumeIsDirectory, writeImageOutput, writeVolumeOutput, type OutputFormat } from './output.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { volumeLevelSlices } from './volume-slices.js'

export type RetrieveProgressEvent =
  | FetchProgressEvent
  | ProgressEvent<'retrieve:planned', { bytes: number }>
  | ProgressEvent<'retrieve:bytes', { bytes: number }>
  | ProgressEvent<'retrieve:written', { name: string, paths: string[] }>

export interface RetrieveOptions extends LevelSelection, EntrySelection, OperationOptions<RetrieveProgressEvent> {
  /**
   * Output file (image, volume, or the one dataset entry that `path` names) or directory (dataset, or a
   * sub-directory of it). Default: `<cid>-L<level>.<ext>` (an entry: `<its file name>-L<level>.<ext>`) / `<cid>/`.
   */
  out?: string
  format?: OutputFormat
  pool?: CodecPool
  /** nii and npy outputs: real-world values (rescale applied) instead of stored values; images then default to nii. */
  applyRescale?: boolean
  /** Images of a dataset handled at once (default 8); also the slices of a volume decoded ahead of the writer (default 16). */
  concurrency?: number
  /**
   * Fetch every block of the level first, many in flight across all images (`fetch:*` events),
   * then decode from the store. Default: when the source is remote (a node or a running `serve`), so a
   * pull is not latency-bound and a rerun after an interruption fetches only what is missing.
   */
  prefetch?: boolean
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
  /** From the root's metadata, for data loaders (and the dataset's manifest.jsonl). */
  sourceFormat?: string
  modality?: string
  /** Pixel (x, y) or voxel (x, y, z) size at the written level, in mm. */
  spacing?: number[]
  /** Volumes: the number of slices. */
  slices?: number
}

export interface RetrieveResult {
  root: string
  kind: AnyRoot['kind']
  outputs: RetrievedOutput[]
  failures: Array<{ name: string, error: { name: string, message: string } }>
  /** Datasets: the manifest written beside the outputs (one JSON line per output). */
  manifest?: string
  /** What the prefetch moved, and from which peers (when it ran). */
  fetched?: FetchLevelResult & Partial<TransferStats>
}

/** Fetches the selected level of a root (image, volume or dataset) and writes image files. */
export async function retrieve (source: BlockSource, cid: CID, options: RetrieveOptions = {}): Promise<RetrieveResult> {
  const { signal, onProgress } = options
  let fetched: RetrieveResult['fetched']
  if (options.prefetch ?? source.remote === true) {
    fetched = await fetchLevelBlocks(source, cid, { level: options.level, size: options.size, path: options.path, include: options.include, exclude: options.exclude, signal, onProgress })
    fetched = { ...fetched, ...source.transferStats?.() }
  }
  const top = await openRoot(source, cid, { signal })
  const result: RetrieveResult = { root: cid.toString(), kind: top.kind, outputs: [], failures: [], fetched }
  if (fetched == null) delete result.fetched
  const outputOptions = { applyRescale: options.applyRescale, pool: options.pool, signal }
  const decodeOptions = { pool: options.pool, signal, onProgress }

  const one = async (entry: EntryPlan, out: string | undefined): Promise<RetrievedOutput> => {
    const { name, level } = entry
    onProgress?.({ type: 'retrieve:planned', detail: { bytes: entry.bytes } })
    let paths: string[]
    if (entry.kind === 'image') {
      const got = await decodeImageLevel(source, entry, decodeOptions)
      const format = options.format ?? defaultFormat('image', got.image, options.applyRescale === true)
      paths = await writeImageOutput(out ?? resolve(`${entry.cid}-L${level}${extensionFor(format)}`), format, entry.root, got, outputOptions)
    } else {
      const format = options.format ?? 'nii'
      const path = out ?? resolve(`${entry.cid}-L${level}${volumeIsDirectory(format) ? '' : extensionFor(format)}`)
      // the slices are decoded as the writer takes them: the volume is never held in memory
      const slices = volumeLevelSlices(source, entry, { ...decodeOptions, concurrency: options.concurrency })
      paths = await writeVolumeOutput(path, format, { root: entry.root, level, meta: entry.root.meta, slices }, outputOptions)
    }
    onProgress?.({ type: 'retrieve:written', detail: { name, paths } })
    return { name, root: entry.cid.toString(), kind: entry.kind, level, paths, ...describeOutput(entry) }
  }

  if (top.kind !== 'dataset') {
    const plan = await planEntry(source, { name: cid.toString(), cid, clamp: false, root: top }, options, { signal })
    result.outputs.push(await one(plan, options.out != null ? resolve(options.out) : undefined))
    return result
  }
  // a path that names one entry (not a sub-directory): that entry alone, written like a lone root
  const globs = (options.include ?? []).length + (options.exclude ?? []).length > 0
  const exact = options.path != null && !globs ? await lookupEntry(source, top, options.path, { signal }) : undefined
  if (exact != null && !(await hasEntriesUnder(source, top, exact.name, { signal }))) {
    const plan = await planEntry(source, { name: exact.name, cid: exact.root, clamp: false, kind: exact.kind }, options, { signal })
    const format = options.format ?? (plan.kind === 'volume' ? 'nii' : defaultFormat('image', plan.root, options.applyRescale === true))
    const fallback = resolve(`${stripImageExtension(basename(exact.name))}-L${plan.level}${plan.kind === 'volume' && volumeIsDirectory(format) ? '' : extensionFor(format)}`)
    result.outputs.push(await one(plan, options.out != null ? resolve(options.out) : fallback))
    return result
  }

  const outDir = resolve(options.out ?? cid.toString())
  const concurrency = options.concurrency ?? 8
  const running = new Set<Promise<void>>()
  for await (const ref of rootEntries(source, top, { signal, path: options.path, include: options.include, exclude: options.exclude })) {
    signal?.throwIfAborted()
    const task = (async () => {
      try {
        const entry = await planEntry(source, ref, options, { signal })
        const format = options.format ?? (entry.kind === 'volume' ? 'nii' : undefined)
        const base = join(outDir, stripImageExtension(ref.name))
        const out = format != null && volumeIsDirectory(format) && entry.kind === 'volume' ? base : format != null ? base + extensionFor(format) : undefined
        result.outputs.push(await one(entry, out ?? defaultImagePath(base, entry, options.applyRescale === true)))
      } catch (err: any) {
        if (signal?.aborted === true) throw err
        result.failures.push({ name: ref.name, error: describeError(err, ref.name) })
      }
    })()
    running.add(task)
    void task.finally(() => running.delete(task))
    if (running.size >= concurrency) await Promise.race(running)
  }
  await Promise.all(running)
  result.outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  if (result.outputs.length > 0) {
    result.manifest = join(outDir, 'manifest.jsonl')
    await writeFileAtomic(result.manifest, result.outputs.map(o => JSON.stringify(manifestLine(o, outDir)) + '\n').join(''))
  }
  return result
}

/** The metadata a data loader needs, from the plan's root, at the written level. */
function describeOutput (entry: EntryPlan): Pick<RetrievedOutput, 'width' | 'height' | 'bytes' | 'sourceFormat' | 'modality' | 'spacing' | 'slices'> {
  const finest = entry.root.levels.length - 1
  const f = 2 ** (finest - entry.level)
  if (entry.kind === 'image') {
    const meta = entry.root.meta
    return { width: entry.plan.width, height: entry.plan.height, bytes: entry.bytes, sourceFormat: meta.sourceFormat, modality: meta.modality, spacing: meta.spacing?.map(s => s * f) }
  }
  const meta = entry.root.meta
  return { width: entry.width, height: entry.height, bytes: entry.bytes, sourceFormat: meta.sourceFormat, modality: meta.modality, spacing: [meta.spacing[0] * f, meta.spacing[1] * f, meta.spacing[2]], slices: meta.dims[2] }
}

/** One line of manifest.jsonl: the entry, its output (relative to the manifest) and what it holds. */
function manifestLine (o: RetrievedOutput, outDir: string): Record<string, unknown> {
  const line: Record<string, unknown> = { entry: o.name, output: o.paths.length === 1 ? relative(outDir, o.paths[0]) : relative(outDir, join(o.paths[0], '..')), kind: o.kind, level: o.level, width: o.width, height: o.height }
  for (const key of ['sourceFormat', 'modality', 'spacing', 'slices'] as const) if (o[key] != null) line[key] = o[key]
  return line
}

function defaultImagePath (base: string, entry: EntryPlan, applyRescale: boolean): string {
  if (entry.kind !== 'image') return base + '.nii'
  return base + extensionFor(defaultFormat('image', entry.root, applyRescale))
}

/** `ct/scan.nii.gz` -> `ct/scan`, `a/b.png` -> `a/b`, `fmri.nii.gz#t03` -> `fmri#t03` (a volume of a 4D file); names without a known image extension stay. */
export function stripImageExtension (name: string): string {
  return name.replace(/\.(nii\.gz|nii|png|dcm|dicom|j2c|j2k|jph)(#t\d+)?$/i, '$2')
}
