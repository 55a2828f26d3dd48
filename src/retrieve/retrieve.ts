import { stat } from 'node:fs/promises'
import { basename, join, relative, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import type { CodecPool } from '../codec/index.js'
import { describeError, OutputPathError } from '../errors.js'
import { fetchLevelBlocks, type FetchLevelResult, type FetchProgressEvent } from '../level/fetch.js'
import type { EntrySelection } from '../level/entries.js'
import { hasEntriesUnder, lookupEntry, openRoot, planEntry, rootEntries, type EntryPlan } from '../level/plan.js'
import type { AnyRoot } from '../level/roots.js'
import type { LevelSelection } from '../level/select.js'
import type { BlockSource, TransferStats } from '../repo/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { decodeImageLevel } from './image-level.js'
import { defaultFormat, extensionFor, volumeIsDirectory, writeImageOutput, writeVolumeOutput, type OutputFormat } from './output.js'
import { writeStreamAtomic } from '../util/atomic-write.js'
import { cidText } from '../util/cid-key.js'
import { ensureDirectoryInside } from '../util/output-dir.js'
import { OutputNames, outputCandidates, pathInside } from './output-names.js'
import { volumeLevelSlices } from './volume-slices.js'

export type RetrieveProgressEvent =
  | FetchProgressEvent
  | ProgressEvent<'retrieve:planned', { bytes: number }>
  | ProgressEvent<'retrieve:bytes', { bytes: number }>
  | ProgressEvent<'retrieve:written', { name: string, paths: string[] }>
  | ProgressEvent<'retrieve:output', RetrievedOutput>

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
  /** Replace existing output files that hold other content (default: refuse them; identical files are kept). */
  force?: boolean
  /**
   * Keep every output's record in `outputs` (default true). An archive's get that only needs the
   * files and the manifest passes false: each record then goes out as a `retrieve:output` event
   * and nothing is kept per entry, so memory stays flat however many entries there are.
   */
  keepOutputs?: boolean
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
  /** Every output, sorted by entry name (empty with keepOutputs: false; `written` counts them). */
  outputs: RetrievedOutput[]
  /** How many outputs were written. */
  written: number
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
  const result: RetrieveResult = { root: cid.toString(), kind: top.kind, outputs: [], written: 0, failures: [], fetched }
  const keep = options.keepOutputs !== false
  const record = (o: RetrievedOutput): void => {
    result.written++
    if (keep) result.outputs.push(o)
    onProgress?.({ type: 'retrieve:output', detail: o })
  }
  if (fetched == null) delete result.fetched
  const overwrite = options.force === true
  const decodeOptions = { pool: options.pool, signal, onProgress }

  /** `within`: the dataset's output directory (then `out` is the entry's checked path, and no write goes through a link below `within`). */
  const one = async (entry: EntryPlan, out: string | undefined, within?: string): Promise<RetrievedOutput> => {
    const { name, level } = entry
    // DICOM outputs get UIDs derived from the root and level, so a rerun writes the same bytes
    const outputOptions = { applyRescale: options.applyRescale, pool: options.pool, signal, write: { within, overwrite }, uidSeed: `${entry.cid.toString()}/L${level}` }
    onProgress?.({ type: 'retrieve:planned', detail: { bytes: entry.bytes } })
    let paths: string[]
    if (entry.kind === 'image') {
      const got = await decodeImageLevel(source, entry, decodeOptions)
      const format = options.format ?? defaultFormat('image', got.image, options.applyRescale === true)
      const path = within != null ? out! : await singleOutputPath(out, `${entry.cid}-L${level}${extensionFor(format)}`, false)
      paths = await writeImageOutput(path, format, entry.root, got, outputOptions)
    } else {
      const format = options.format ?? 'nii'
      const isDir = volumeIsDirectory(format)
      const path = within != null ? out! : await singleOutputPath(out, `${entry.cid}-L${level}${isDir ? '' : extensionFor(format)}`, isDir)
      // the slices are decoded as the writer takes them: the volume is never held in memory
      const slices = volumeLevelSlices(source, entry, { ...decodeOptions, concurrency: options.concurrency })
      paths = await writeVolumeOutput(path, format, { root: entry.root, level, meta: entry.root.meta, slices }, outputOptions)
    }
    onProgress?.({ type: 'retrieve:written', detail: { name, paths } })
    return { name, root: cidText(entry.cid), kind: entry.kind, level, paths, ...describeOutput(entry) }
  }

  if (top.kind !== 'dataset') {
    const plan = await planEntry(source, { name: cid.toString(), cid, clamp: false, root: top }, options, { signal })
    record(await one(plan, options.out != null ? resolve(options.out) : undefined))
    return result
  }
  // a path that names one entry (not a sub-directory): that entry alone, written like a lone root
  const globs = (options.include ?? []).length + (options.exclude ?? []).length > 0
  const exact = options.path != null && !globs ? await lookupEntry(source, top, options.path, { signal }) : undefined
  if (exact != null && !(await hasEntriesUnder(source, top, exact.name, { signal }))) {
    const plan = await planEntry(source, { name: exact.name, cid: exact.root, clamp: false, kind: exact.kind }, options, { signal })
    const format = options.format ?? (plan.kind === 'volume' ? 'nii' : defaultFormat('image', plan.root, options.applyRescale === true))
    const isDir = plan.kind === 'volume' && volumeIsDirectory(format)
    // the entry's own file name, checked like any output name (it comes from a root)
    const fallback = pathInside(process.cwd(), `${stripImageExtension(basename(exact.name))}-L${plan.level}${isDir ? '' : extensionFor(format)}`, exact.name)
    record(await one(plan, options.out != null ? await singleOutputPath(resolve(options.out), basename(fallback), isDir) : fallback))
    return result
  }

  const outDir = resolve(options.out ?? cid.toString())
  const existing = await stat(outDir).catch(() => undefined)
  if (existing != null && !existing.isDirectory()) throw new OutputPathError(`${outDir} exists and is not a directory; a dataset is written into a directory: choose another -o`)
  await ensureDirectoryInside(outDir, outDir)
  const concurrency = options.concurrency ?? 8
  const running = new Set<Promise<void>>()
  // the manifest is written as entries finish, in entry order, and appears (replacing the one an
  // earlier get wrote; no link is followed) only if something was written
  const manifest = new ManifestWriter(join(outDir, MANIFEST), outDir, signal)
  let sequence = 0
  // output paths are claimed in entry (name) order, whatever order the roots arrive in, so
  // which of two colliding entries keeps the plain name does not depend on timing
  const names = new OutputNames()
  names.claim(MANIFEST, [MANIFEST], false)
  let turn: Promise<void> = Promise.resolve()
  for await (const ref of rootEntries(source, top, { signal, path: options.path, include: options.include, exclude: options.exclude })) {
    signal?.throwIfAborted()
    const myTurn = turn
    const mySequence = sequence++
    let release!: () => void
    turn = new Promise<void>(resolve => { release = resolve })
    const task = (async () => {
      try {
        let claimed: { entry: EntryPlan, path: string }
        try {
          const entry = await planEntry(source, ref, options, { signal })
          const format = options.format ?? (entry.kind === 'volume' ? 'nii' : defaultFormat('image', entry.root, options.applyRescale === true))
          const isDir = entry.kind === 'volume' && volumeIsDirectory(format)
          const ext = isDir ? '' : extensionFor(format)
          const candidates = outputCandidates(ref.name, stripImageExtension(ref.name), ext)
          await myTurn
          const rel = names.claim(ref.name, candidates, isDir)
          claimed = { entry, path: pathInside(outDir, rel, ref.name) }
        } finally {
          void myTurn.then(release)
        }
        const output = await one(claimed.entry, claimed.path, outDir)
        record(output)
        manifest.add(mySequence, JSON.stringify(manifestLine(output, outDir)) + '\n')
      } catch (err: any) {
        manifest.add(mySequence, undefined)
        if (signal?.aborted === true) throw err
        result.failures.push({ name: ref.name, error: describeError(err, ref.name) })
      }
    })()
    running.add(task)
    void task.finally(() => running.delete(task))
    if (running.size >= concurrency) await Promise.race(running)
  }
  try {
    await Promise.all(running)
  } finally {
    await manifest.finish(result.written > 0 && signal?.aborted !== true)
  }
  result.outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  result.failures.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  if (result.written > 0) result.manifest = join(outDir, MANIFEST)
  return result
}

/**
 * manifest.jsonl written while a dataset's entries are retrieved: each entry's line (or nothing,
 * for a failed entry) is added under its sequence number and goes out once every earlier entry
 * has been decided, so the file is in entry order and holds only the entries still in flight.
 */
class ManifestWriter {
  private readonly waiting = new Map<number, string | undefined>()
  private next = 0
  private readonly ready: string[] = []
  private wake?: () => void
  private closed = false
  private readonly cancel = new AbortController()
  private readonly written: Promise<void>

  constructor (path: string, within: string, signal?: AbortSignal) {
    const abort = signal != null ? AbortSignal.any([signal, this.cancel.signal]) : this.cancel.signal
    this.written = writeStreamAtomic(path, () => this.lines(), { within, overwrite: true, signal: abort })
    this.written.catch(() => {})
  }

  private async * lines (): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.ready.length > 0) { yield Buffer.from(this.ready.splice(0).join('')); continue }
      if (this.closed) return
      await new Promise<void>(resolve => { this.wake = resolve })
    }
  }

  add (sequence: number, line: string | undefined): void {
    this.waiting.set(sequence, line)
    while (this.waiting.has(this.next)) {
      const out = this.waiting.get(this.next)
      this.waiting.delete(this.next++)
      if (out != null) this.ready.push(out)
    }
    this.wake?.()
  }

  /** Closes the file: kept under its name when `keep`, else removed (nothing was written). */
  async finish (keep: boolean): Promise<void> {
    this.closed = true
    if (!keep) this.cancel.abort()
    this.wake?.()
    try {
      await this.written
    } catch (err) {
      if (keep) throw err
    }
  }
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

/** Beside a dataset's outputs (no entry's output can take this name: outputs end in an image extension). */
const MANIFEST = 'manifest.jsonl'

/**
 * Where a single root's output goes: `out` as given; inside `out` under `defaultName` when
 * `out` is an existing directory and the output is one file (as `cp file dir/` does); the
 * default name in the current directory without `out`.
 */
async function singleOutputPath (out: string | undefined, defaultName: string, isDir: boolean): Promise<string> {
  if (out == null) return resolve(defaultName)
  if (!isDir && (await stat(out).catch(() => undefined))?.isDirectory() === true) return join(out, defaultName)
  return out
}

/** `ct/scan.nii.gz` -> `ct/scan`, `a/b.png` -> `a/b`, `fmri.nii.gz#t03` -> `fmri#t03` (a volume of a 4D file); names without a known image extension stay. */
export function stripImageExtension (name: string): string {
  return name.replace(/\.(nii\.gz|nii|png|dcm|dicom|j2c|j2k|jph)(#t\d+)?$/i, '$2')
}
