import { basename, dirname, posix } from 'node:path'
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { buildDatasetDag, buildVolumeDag, compareNames, invalidName } from '../chunker/index.js'
import { buildDatasetDirectories } from './dataset-dirs.js'
import { CodecPool, getDefaultPool } from '../codec/index.js'
import { describeError, MistError, RepoError } from '../errors.js'
import { isDicomFile, planSeries, readInputs, readSeriesGroup, seriesItems, type SeriesGroup } from '../formats/index.js'
import type { BlockStore } from '../repo/index.js'
import type { Block, ImageMeta, InputItem, OperationOptions, ProgressEvent, RasterImage, ValueMapping } from '../types.js'
import { collectInputs, type InputFile, type SkippedEntry } from './collect.js'
import { readAhead } from '../util/read-ahead.js'
import { isPngPath, preloadImageTask, publishImageOnPool, publishPngOnPool } from './image-task.js'

/** Bytes a getter moves for one level. */
export interface LevelSummary { level: number, width: number, height: number, bytes: number }

export interface PublishedItem {
  /** The file; for a DICOM series volume, its directory; for a time point of a series of mosaics, that point's file. */
  path: string
  name: string
  kind: 'image' | 'volume'
  root: CID
  /** Number of 2D images (1, or the slice count of a volume). */
  images: number
  levels: LevelSummary[]
  /** Files a DICOM series volume was made of (absent for one file). */
  files?: number
  /** How the published 16-bit samples map back to the source (32/64-bit sources); maxAbsError is the measured largest error (0: exact). */
  valueMapping?: ValueMapping
  /** The source itself was lossily compressed. */
  lossySource?: boolean
}

export interface PublishFailure {
  path: string
  error: { name: string, message: string }
}

export interface PublishWarning {
  path: string
  message: string
}

export interface PublishResult {
  /** The dataset root for a directory, several inputs or a 4D NIfTI; the item's own root for one file. Absent if nothing was published. */
  root?: CID
  items: PublishedItem[]
  failures: PublishFailure[]
  /** What the user should know although nothing failed: a DICOM series that could not be one volume (e.g. a missing slice) and was published file by file. */
  warnings: PublishWarning[]
  /** Entries of the published directories that were not published (hidden, special files, links not followed), with the reason. */
  skipped: SkippedEntry[]
  /** Bytes of new blocks written to the repo. */
  bytesWritten: number
  /** For a dataset: its per-level UnixFS directories (docs/FORMAT.md section 6) and what they cost. */
  directories?: { dirs: CID[], blocks: number, bytes: number, sharded: number }
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
  /** Map 32/64-bit data with no exact 16-bit form linearly onto 16 bits (the largest error is measured and returned). */
  quantize?: boolean
  /** Also publish the NIfTI free-text fields (descrip, aux_file, intent_name). */
  keepText?: boolean
  /** Follow every symbolic link in a published directory, not only those to files inside the published paths (collect.ts). */
  followSymlinks?: boolean
}

/** What is published as one unit: a file (one item, or one per volume of a 4D NIfTI) or the files of one DICOM series. */
type Unit =
  | { kind: 'file', file: InputFile }
  | { kind: 'series', name: string, path: string, files: InputFile[], group: SeriesGroup }

/**
 * Publishes files and directories into the repo: read, encode (all cores), chunk into
 * level blocks, store, and pin the root. A file that fails is reported in `failures`
 * with the reason; the others are still published.
 *
 * Entries: a file is named by its path; each 3D volume of a 4D NIfTI `scan.nii.gz` is
 * `scan.nii.gz#t0`, `#t1`, … (zero-padded to the width of the last index). The DICOM files
 * found in a directory are grouped by SeriesInstanceUID: a series of single-frame slices
 * with positions becomes one volume named after its directory (`ct/series-<SeriesNumber>`
 * when the directory holds several such series); a series of Siemens mosaics (one file per
 * time point) becomes one volume per file named `<dir>#t0`, `#t1`, … in acquisition order;
 * other DICOM files stay one entry each (an enhanced multi-frame file with several stacks,
 * temporal positions or b-values gives `file.dcm#t0`, `#t1`, … as a 4D NIfTI does).
 * A series that cannot be one volume (a missing slice, irregular spacing, mixed sizes, a
 * broken slice) is published file by file instead, with a warning in `warnings`.
 */
export async function publish (paths: string[], options: PublishOptions): Promise<PublishResult> {
  const { repo, signal, onProgress } = options
  const pool = options.pool ?? getDefaultPool()
  // the workers start and import the task module while the inputs are collected and planned
  preloadImageTask(pool)
  const { files, isDataset, skipped } = await collectInputs(paths, { exclude: [repo.path], followSymlinks: options.followSymlinks })
  onProgress?.({ type: 'publish:start', detail: { files: files.length } })
  const units = await planUnits(files, signal)

  // Encodes go through one queue so that the workers stay busy across files and slices
  // without holding a whole dataset in memory.
  const encodeQueue = new PQueue({ concurrency: Math.max(2, pool.stats().workers * 2) })
  const fileQueue = new PQueue({ concurrency: 2 })
  // a PNG is read, encoded and chunked on a worker (image-task.ts): enough in flight to keep every worker busy while blocks are written
  const pngQueue = new PQueue({ concurrency: Math.max(2, pool.size * 2) })
  const result: PublishResult = { items: [], failures: [], warnings: [], skipped, bytesWritten: 0 }
  const published = new Map<Unit, PublishedItem[]>()
  const readOptions = { signal, quantize: options.quantize, keepText: options.keepText }

  const publishImage = async (label: string, image: RasterImage, meta: ImageMeta): Promise<{ root: CID, levels: LevelSummary[] }> => {
    const dag = await encodeQueue.add(async () => {
      signal?.throwIfAborted()
      // encoded and chunked (hashed) on a worker: the main thread only writes the blocks
      return await publishImageOnPool(pool, image, meta, { name: label, decompositions: options.decompositions, signal })
    }) as Awaited<ReturnType<typeof publishImageOnPool>>
    // written outside the queue: the next image is encoded while this one's commit completes
    // (not `+= await`: its left side would be read before the await, and concurrent images would lose their counts)
    const written = await repo.putBlocks(dag.blocks, { signal })
    result.bytesWritten += written
    onProgress?.({ type: 'publish:image', detail: { path: label, pixels: image.width * image.height } })
    return { root: dag.root, levels: dag.levels }
  }

  /** Publishes one item; slices are read as the encoders take them, so a volume is never held whole. */
  const publishItem = async (path: string, name: string, input: InputItem): Promise<PublishedItem> => {
    const extra = (m: { valueMapping?: ValueMapping, lossySource?: boolean }): Partial<PublishedItem> => ({
      ...(m.valueMapping != null ? { valueMapping: m.valueMapping } : {}),
      ...(m.lossySource === true ? { lossySource: true } : {})
    })
    if (input.kind === 'image') {
      const { root, levels } = await publishImage(path, input.image, input.meta)
      return { path, name, kind: 'image', root, images: 1, levels, ...extra(input.meta) }
    }
    const pending: Array<Promise<{ root: CID, levels: LevelSummary[] }>> = []
    const sliceMeta: ImageMeta = { sourceFormat: input.meta.sourceFormat, modality: input.meta.modality, spacing: [input.meta.spacing[0], input.meta.spacing[1]], rescale: input.meta.rescale }
    for await (const slice of input.slices()) {
      // back-pressure: do not read far ahead of the encoders
      while (encodeQueue.size > encodeQueue.concurrency * 2) await encodeQueue.onSizeLessThan(encodeQueue.concurrency)
      pending.push(publishImage(path, slice, sliceMeta))
      pending[pending.length - 1].catch(() => {})
    }
    const slices = await Promise.all(pending)
    const dag = await buildVolumeDag(input.meta, slices)
    const written = await repo.putBlocks(dag.blocks, { signal })
    result.bytesWritten += written
    return { path, name, kind: 'volume', root: dag.root, images: slices.length, levels: dag.levels, ...extra(input.meta) }
  }

  /** A PNG file on a worker; false when it turned out not to be a PNG (read on this thread then). */
  const publishPngFile = async (unit: Unit, file: InputFile): Promise<boolean> => {
    const got = await pngQueue.add(async () => await publishPngOnPool(pool, { path: file.path, decompositions: options.decompositions }, { signal }))
    if (got == null) return false
    // written outside the queue, as in publishImage
    const written = await repo.putBlocks(got.blocks, { signal })
    result.bytesWritten += written
    onProgress?.({ type: 'publish:image', detail: { path: file.path, pixels: got.pixels } })
    const item: PublishedItem = { path: file.path, name: file.name, kind: 'image', root: got.root, images: 1, levels: got.levels }
    if (got.meta.lossySource === true) item.lossySource = true
    published.set(unit, [...(published.get(unit) ?? []), item])
    onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: true } })
    return true
  }

  // a block the repo cannot store (a full disk, a repo gone read-only) fails every file after it too:
  // the publish stops with that one error instead of listing it once per input file
  const stopIfRepoFails = (err: any, path: string): void => {
    if (err?.name === 'PutFailedError') throw new RepoError(`${path}: ${err.message}; publish stopped, nothing pinned (the blocks already stored are reused when it is run again once the repo can be written)`, { cause: err })
  }

  const publishFile = async (unit: Unit, file: InputFile): Promise<void> => {
    try {
      signal?.throwIfAborted()
      if (isPngPath(file.path) && await publishPngFile(unit, file)) return
      const inputs = await readInputs(file.path, readOptions)
      const digits = String(inputs.length - 1).length
      const items: PublishedItem[] = []
      try {
        for (const [t, input] of inputs.entries()) {
          const name = inputs.length > 1 ? `${file.name}#t${String(t).padStart(digits, '0')}` : file.name
          items.push(await publishItem(file.path, name, input))
        }
      } finally {
        // a NIfTI's slices are read from the file as they are encoded: release it
        await Promise.all(inputs.map(async input => input.kind === 'volume' ? await input.close?.() : undefined))
      }
      published.set(unit, [...(published.get(unit) ?? []), ...items])
      onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: true } })
    } catch (err: any) {
      if (signal?.aborted === true) throw err
      stopIfRepoFails(err, file.path)
      const error = describeError(err, file.path)
      result.failures.push({ path: file.path, error })
      onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: false, error: error.message } })
    }
  }

  const publishSeries = async (unit: Extract<Unit, { kind: 'series' }>): Promise<void> => {
    try {
      signal?.throwIfAborted()
      const items: PublishedItem[] = []
      if (unit.group.timeSeries === true) {
        // one volume per file (time point), read as the encoders take them
        const digits = String(unit.group.paths.length - 1).length
        let t = 0
        for await (const volume of seriesItems(unit.group, { signal })) {
          const path = unit.group.paths[t]
          items.push({ ...await publishItem(path, `${unit.name}#t${String(t).padStart(digits, '0')}`, volume), files: 1 })
          t++
        }
      } else {
        const [volume] = await readSeriesGroup(unit.group, { signal })
        items.push({ ...await publishItem(unit.path, unit.name, volume), files: unit.files.length })
      }
      published.set(unit, items)
      for (const file of unit.files) onProgress?.({ type: 'publish:file', detail: { path: file.path, ok: true } })
    } catch (err: any) {
      if (signal?.aborted === true) throw err
      stopIfRepoFails(err, unit.path)
      // not one volume after all (a missing slice, irregular spacing, a broken file): said in a
      // warning, and every file published on its own, so one bad slice costs one file
      result.warnings.push({ path: unit.path, message: `${describeError(err, unit.path).message}; its ${unit.files.length} files are published one by one` })
      for (const file of unit.files) await publishFile(unit, file)
    }
  }

  try {
    // a bounded number of units in flight: an archive's files are not all queued (and held) at once
    const running = new Set<Promise<void>>()
    const inFlight = Math.max(8, pool.size * 4)
    for (const unit of units) {
      signal?.throwIfAborted()
      const task = unit.kind === 'file' && isPngPath(unit.file.path)
        ? publishFile(unit, unit.file)
        : fileQueue.add(async () => unit.kind === 'file' ? publishFile(unit, unit.file) : publishSeries(unit)) as Promise<void>
      running.add(task)
      void task.finally(() => running.delete(task)).catch(() => {})
      if (running.size >= inFlight) await Promise.race(running)
    }
    await Promise.all(running)
  } finally {
    encodeQueue.clear()
    pngQueue.clear()
  }
  signal?.throwIfAborted()
  result.items = units.flatMap(u => published.get(u) ?? [])
  // a name the dataset format refuses (control or bidi-override characters) fails its file, not the batch
  if (isDataset || result.items.length > 1) {
    result.items = result.items.filter(item => {
      const why = invalidName(item.name)
      if (why !== undefined) result.failures.push({ path: item.path, error: { name: 'FormatError', message: `${item.path}: its dataset entry name ${JSON.stringify(item.name)} is refused: ${why}; rename the file` } })
      return why === undefined
    })
  }
  const order = new Map(files.map((f, i) => [f.path, i]))
  result.failures.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0))

  if (result.items.length === 0) return result
  if (isDataset || result.items.length > 1) {
    const entries = result.items.map(i => ({ name: i.name, root: i.root, kind: i.kind, levels: i.levels }))
    const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name))
    const depth = entries.reduce((d, e) => Math.max(d, e.levels.length), 0)
    // directory nodes go to the repo in batches as they are made; the entries' roots are read back from it
    let batch: Block[] = []
    const flush = async (): Promise<void> => { result.bytesWritten += await repo.putBlocks(batch, { signal }); batch = [] }
    const made = await buildDatasetDirectories(repo, sorted, depth, {
      signal,
      put: async block => { batch.push(block); if (batch.length >= 256) await flush() }
    })
    await flush()
    for (const o of made.omitted) {
      const item = result.items.find(i => i.name === o.name)
      result.warnings.push({ path: item?.path ?? o.name, message: `left out of the dataset's browsable directories (it is in the dataset): ${o.reason}` })
    }
    result.directories = { dirs: made.dirs, ...made.stats }
    const dag = await buildDatasetDag(entries, { dirs: made.dirs })
    result.bytesWritten += await repo.putBlocks(dag.blocks, { signal })
    result.root = dag.root
  } else {
    result.root = result.items[0].root
  }
  if (options.pin !== false) await repo.pin(result.root as CID, { signal })
  return result
}

/** Files in input order; the DICOM files of each directory that form series volumes become one unit per series. */
async function planUnits (files: InputFile[], signal?: AbortSignal): Promise<Unit[]> {
  const byDir = new Map<string, InputFile[]>()
  for (const file of files) {
    if (file.inDirectory !== true) continue
    const dir = dirname(file.path)
    byDir.set(dir, [...(byDir.get(dir) ?? []), file])
  }
  const seriesOf = new Map<InputFile, Extract<Unit, { kind: 'series' }>>()
  for (const [dir, inDir] of byDir) {
    if (inDir.length < 2) continue
    const dicom: InputFile[] = []
    let k = 0
    for await (const isDicom of readAhead(inDir, async file => await isDicomFile(file.path, { signal }), 8)) {
      if (isDicom) dicom.push(inDir[k])
      k++
    }
    if (dicom.length < 2) continue
    const byPath = new Map(dicom.map(f => [f.path, f]))
    // header failures are left to the per-file path, which reports them
    const { groups } = await planSeries(dicom.map(f => f.path), { signal })
    const volumes = groups.filter(g => g.volume)
    const relDir = posix.dirname(dicom[0].name)
    const base = relDir === '.' ? basename(dir) : relDir
    const used = new Set<string>()
    volumes.forEach((group, i) => {
      let name = volumes.length === 1 ? base : `${base}/series-${group.seriesNumber ?? i + 1}`
      if (used.has(name)) name = `${name}-${i + 1}`
      used.add(name)
      const unit = { kind: 'series' as const, name, path: dir, files: group.paths.map(p => byPath.get(p) as InputFile), group }
      for (const f of unit.files) seriesOf.set(f, unit)
    })
  }
  const units: Unit[] = []
  const seen = new Set<Unit>()
  for (const file of files) {
    const series = seriesOf.get(file)
    if (series == null) units.push({ kind: 'file', file })
    else if (!seen.has(series)) { seen.add(series); units.push(series) }
  }
  return units
}
