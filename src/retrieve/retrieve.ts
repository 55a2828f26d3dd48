import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import { datasetEntries } from '../chunker/index.js'
import type { CodecPool } from '../codec/index.js'
import { OutputPathError, UsageError } from '../errors.js'
import { describeError } from '../publish/publish.js'
import type { BlockSource } from '../repo/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { decodeImageLevel } from './image-level.js'
import { defaultFormat, extensionFor, volumeIsDirectory, writeImageOutput, writeVolumeOutput, type OutputFormat } from './output.js'
import { readRoot, type AnyRoot } from './read-root.js'
import { chooseLevel, type LevelSelection } from './select.js'
import { OutputNames, outputCandidates, pathInside } from './output-names.js'
import { ensureDirectoryInside } from '../util/output-dir.js'
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
  /** Replace existing output files that hold other content (default: refuse them; identical files are kept). */
  force?: boolean
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
  const baseOptions = { applyRescale: options.applyRescale, pool: options.pool, signal }
  const overwrite = options.force === true

  /** `within`: the dataset's output directory (then `out` is the entry's checked path, and no write goes through a link below `within`). */
  const one = async (entry: AnyRoot, name: string, out: string | undefined, clamp: boolean, within?: string): Promise<RetrievedOutput> => {
    const outputOptions = { ...baseOptions, write: { within, overwrite }, uidSeed: undefined as string | undefined }
    if (entry.kind === 'image') {
      const root = entry.root
      const level = chooseLevel(root.levels, options, { clamp, name })
      const info = root.levels.find(l => l.level === level)!
      onProgress?.({ type: 'retrieve:planned', detail: { bytes: info.bytes } })
      const got = await decodeImageLevel(source, entry.cid, root, level, { ...options, onBytes, name })
      const format = options.format ?? defaultFormat('image', got.image, options.applyRescale === true)
      const path = within != null ? out! : await singleOutputPath(out, `${entry.cid}-L${level}${extensionFor(format)}`, false)
      outputOptions.uidSeed = `${entry.cid.toString()}/L${level}`
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
      const isDir = volumeIsDirectory(format)
      const path = within != null ? out! : await singleOutputPath(out, `${entry.cid}-L${level}${isDir ? '' : extensionFor(format)}`, isDir)
      outputOptions.uidSeed = `${entry.cid.toString()}/L${level}`
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
  const existing = await stat(outDir).catch(() => undefined)
  if (existing != null && !existing.isDirectory()) throw new OutputPathError(`${outDir} exists and is not a directory; a dataset is written into a directory: choose another -o`)
  await ensureDirectoryInside(outDir, outDir)
  const getBlock = async (c: CID): Promise<Uint8Array> => source.get(c, { signal })
  const concurrency = options.concurrency ?? 8
  const running = new Set<Promise<void>>()
  // output paths are claimed in entry (name) order, whatever order the roots arrive in, so
  // which of two colliding entries keeps the plain name does not depend on timing
  const names = new OutputNames()
  let turn: Promise<void> = Promise.resolve()
  for await (const entry of datasetEntries(found.root, getBlock)) {
    signal?.throwIfAborted()
    const myTurn = turn
    let release!: () => void
    turn = new Promise<void>(resolve => { release = resolve })
    const task = (async () => {
      try {
        let claimed: { child: AnyRoot, path: string }
        try {
          const child = await readRoot(source, entry.root, { signal })
          const format = options.format ?? (child.kind === 'volume' ? 'nii' : child.kind === 'image' ? defaultFormat('image', child.root, options.applyRescale === true) : undefined)
          const isDir = format != null && child.kind === 'volume' && volumeIsDirectory(format)
          const ext = format == null || isDir ? '' : extensionFor(format)
          const stem = stripImageExtension(entry.name)
          const candidates = outputCandidates(entry.name, stem, ext)
          await myTurn
          const rel = names.claim(entry.name, candidates, isDir)
          claimed = { child, path: pathInside(outDir, rel, entry.name) }
        } finally {
          void myTurn.then(release)
        }
        const output = await one(claimed.child, entry.name, claimed.path, true, outDir)
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
  result.failures.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return result
}

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
