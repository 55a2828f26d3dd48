import { basename, dirname, posix } from 'node:path'
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { buildSortedDatasetDag, buildVolumeDag, invalidName, nameOrder, type DatasetEntry } from '../chunker/index.js'
import { buildDatasetDirectories } from './dataset-dirs.js'
import type { LevelTarget } from '../chunker/level-dirs.js'
import { CodecPool, getDefaultPool } from '../codec/index.js'
import { describeError, MistError, RepoError } from '../errors.js'
import { isDicomFile, planSeries, readInputs, readSeriesGroup, seriesItems, type SeriesGroup } from '../formats/index.js'
import type { BlockStore } from '../repo/index.js'
import type { Block, ImageMeta, InputItem, OperationOptions, ProgressEvent, RasterImage, ValueMapping } from '../types.js'
import { collectInputs, type InputFile, type SkippedEntry } from './collect.js'
import { readAhead } from '../util/read-ahead.js'
import { isPngPath, preloadImageTask, publishImageOnPool, publishPngOnPool } from './image-task.js'
import { PublishedItemList } from './item-list.js'

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
  /** Images: each level's UnixFS file (IPFS tools `cat` it as the level's codestream) and its cumulative size, level 0 first. */
  levelFiles?: LevelTarget[]
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
  /** Every published item in input order (empty with keepItems: false: read `list` then). */
  items: PublishedItem[]
  /** The same items, packed (a few hundred bytes each); `list.at(k)` or iterating makes one object at a time. */
  list: PublishedItemList
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
  /**
   * Also return the items as objects in `items` (default true). An archive's publish passes false
   * and reads them from `list`, so that no per-entry object outlives its encode.
   */
  keepItems?: boolean
}

/** What is published as one unit: a file (one item, or one per volume of a 4D NIfTI) or the files of one DICOM series. */
type Unit =
  | { kind: 'file', index: number, file: InputFile }
  | { kind: 'series', index: number, name: string, path: string, files: InputFile[], group: SeriesGroup }

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
  const list = new PublishedItemList()
  const result: PublishResult = { items: [], list, failures: [], warnings: [], skipped, bytesWritten: 0 }
  const readOptions = { signal, quantize: options.quantize, keepText: options.keepText }

  const publishImage = async (label: string, image: RasterImage, meta: ImageMeta): Promise<{ root: CID, levels: LevelSummary[], files: LevelTarget[] }> => {
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
    return { root: dag.root, levels: dag.levels, files: dag.files }
  }

  /** Publishes one item; slices are read as the encoders take them, so a volume is never held whole. */
  const publishItem = async (path: string, name: string, input: InputItem): Promise<PublishedItem> => {
    const extra = (m: { valueMapping?: ValueMapping, lossySource?: boolean }): Partial<PublishedItem> => ({
      ...(m.valueMapping != null ? { valueMapping: m.valueMapping } : {}),
      ...(m.lossySource === true ? { lossySource: true } : {})
    })
    if (input.kind === 'image') {
      const { root, levels, files } = await publishImage(path, input.image, input.meta)
      return { path, name, kind: 'image', root, images: 1, levels, levelFiles: files, ...extra(input.meta) }
    }
    const pending: Array<Promise<{ root: CID, levels: LevelSummary[], files: LevelTarget[] }>> = []
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
    const item: PublishedItem = { path: file.path, name: file.name, kind: 'image', root: got.root, images: 1, levels: got.levels, levelFiles: got.files }
    if (got.meta.lossySource === true) item.lossySource = true
    list.push(item, unit.index)
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
      for (const item of items) list.push(item, unit.index)
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
      for (const item of items) list.push(item, unit.index)
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
  // a name the dataset format refuses (control or bidi-override characters) fails its file, not the batch
  if (isDataset || list.size > 1) {
    for (let i = 0; i < list.size; i++) {
      const { name, path } = list.pushed(i)
      const why = invalidName(name)
      if (why === undefined) continue
      list.remove(i)
      result.failures.push({ path, error: { name: 'FormatError', message: `${path}: its dataset entry name ${JSON.stringify(name)} is refused: ${why}; rename the file` } })
    }
  }
  list.seal()
  if (result.failures.length > 1) {
    const order = new Map(files.map((f, i) => [f.path, i]))
    result.failures.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0))
  }
  if (options.keepItems !== false) result.items = [...list]

  if (list.length === 0) return result
  if (isDataset || list.length > 1) {
    // entries are made from the packed list one at a time, in name order, for each pass
    const sorted = sortedByName(list)
    const entries = function * (withFiles: boolean): Generator<DatasetEntry & { levels: LevelSummary[], levelFiles?: LevelTarget[] }> {
      for (const k of sorted) yield { name: list.name(k), root: list.root(k), kind: list.kind(k), levels: list.levelList(k), levelFiles: withFiles ? list.levelFiles(k) : undefined }
    }
    let depth = 0
    for (let k = 0; k < list.length; k++) depth = Math.max(depth, list.levelCount(k))
    // directory and index nodes go to the repo in batches as they are made (a volume's roots are read back from it)
    let batch: Block[] = []
    const flush = async (): Promise<void> => { result.bytesWritten += await repo.putBlocks(batch, { signal }); batch = [] }
    const put = async (block: Block): Promise<void> => { batch.push(block); if (batch.length >= 256) await flush() }
    const made = await buildDatasetDirectories(repo, entries(true), depth, { signal, put })
    await flush()
    for (const o of made.omitted) {
      let path = o.name
      for (let k = 0; k < list.length; k++) if (list.name(k) === o.name) { path = list.path(k); break }
      result.warnings.push({ path, message: `left out of the dataset's browsable directories (it is in the dataset): ${o.reason}` })
    }
    result.directories = { dirs: made.dirs, ...made.stats }
    const dag = await buildSortedDatasetDag(sorted.length, entries(false), { dirs: made.dirs, signal, put })
    await flush()
    result.root = dag.root
  } else {
    result.root = list.root(0)
  }
  if (options.pin !== false) await repo.pin(result.root as CID, { signal })
  return result
}

/** Reading positions of `list` in dataset order (byte-wise UTF-8 order of the names). */
function sortedByName (list: PublishedItemList): Uint32Array {
  const names = Array.from({ length: list.length }, (_, k) => list.name(k))
  const order = nameOrder(names)
  return Uint32Array.from(names.keys()).sort((a, b) => order(names[a], names[b]))
}

/** Files in input order; the DICOM files of each directory that form series volumes become one unit per series. */
async function planUnits (files: InputFile[], signal?: AbortSignal): Promise<Unit[]> {
  const byDir = new Map<string, InputFile[]>()
  for (const file of files) {
    // a .png goes to the PNG reader (image-task.ts) and is never a slice: its head is not read here
    if (file.inDirectory !== true || isPngPath(file.path)) continue
    const dir = dirname(file.path)
    const inDir = byDir.get(dir)
    if (inDir === undefined) byDir.set(dir, [file])
    else inDir.push(file)
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
      const unit = { kind: 'series' as const, index: -1, name, path: dir, files: group.paths.map(p => byPath.get(p) as InputFile), group }
      for (const f of unit.files) seriesOf.set(f, unit)
    })
  }
  const units: Unit[] = []
  const seen = new Set<Unit>()
  for (const file of files) {
    const series = seriesOf.get(file)
    if (series == null) units.push({ kind: 'file', index: units.length, file })
    else if (!seen.has(series)) { seen.add(series); series.index = units.length; units.push(series) }
  }
  return units
}
