/**
 * The plan of a level, made once: a root CID plus a selection (`--level`, `--size`) becomes a
 * stream of entries (one for an image or volume root, every entry of a dataset), and each entry
 * becomes a plan: its root, the chosen level and what that level needs. Retrieve, the network
 * prefetch, mirror, CAR export/import and verify all consume these plans; nothing else calls
 * `chooseLevel` or dispatches on the kind of a root.
 */
import type { CID } from 'multiformats/cid'
import { checkVolumeSlice, datasetEntries, levelPlan, lookupDatasetEntry, volumeSlices, type DatasetEntry, type DatasetRoot, type ImageRoot, type LevelPlan, type VolumeRoot } from '../chunker/index.js'
import { FormatError, UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { readBlock, readRoot, type AnyRoot, type ReadBlockOptions } from './roots.js'
import { entryFilter, normalisePath, type EntrySelection } from './entries.js'
import { chooseLevel, type LevelSelection } from './select.js'

/** `onRead` sees every structural block (root, index node, shard) as it is read: the block walk visits them, verify counts them. */
export type PlanReadOptions = ReadBlockOptions

/** One thing a root names: itself (an image or volume root) or one dataset entry. */
export interface EntryRef {
  name: string
  cid: CID
  /** Dataset entries clamp a level beyond an image's finest to its finest; a lone root refuses it. */
  clamp: boolean
  /** What the dataset says the entry is (names the block in errors). */
  kind?: 'image' | 'volume'
  /** The root, when it was already read (the top-level root). */
  root?: AnyRoot
}

/** One image (a 2D image, or a volume's slice) at its chosen level. */
export interface ImagePlan {
  kind: 'image'
  name: string
  cid: CID
  root: ImageRoot
  level: number
  /** Leaves, prefix end, size and `reduce` of the level (chunker's levelPlan). */
  plan: LevelPlan
  /** The level's bytes as the root states them. */
  bytes: number
}

/** A volume at its chosen level; its slices are planned one by one (`volumeSliceRoots`, `planSlice`). */
export interface VolumePlan {
  kind: 'volume'
  name: string
  cid: CID
  root: VolumeRoot
  level: number
  width: number
  height: number
  bytes: number
}

export type EntryPlan = ImagePlan | VolumePlan

/** Reads the top-level root once (FormatError when it is not a mist-p2p root). */
export async function openRoot (source: BlockSource, cid: CID, options: PlanReadOptions = {}): Promise<AnyRoot> {
  return readRoot(source, cid, options)
}

/**
 * The entries of a root, streamed: the root itself for an image or volume, the selected entries
 * in name order for a dataset (its index nodes are read as the stream goes; a path reads only the
 * nodes on its way). UsageError when a selection matches nothing.
 */
export async function * rootEntries (source: BlockSource, top: AnyRoot, options: PlanReadOptions & EntrySelection & { after?: string } = {}): AsyncGenerator<EntryRef> {
  const globs = (options.include ?? []).length + (options.exclude ?? []).length > 0
  if (top.kind !== 'dataset') {
    if (options.path != null || globs) throw new UsageError(`${top.cid} is ${top.kind === 'image' ? 'an image' : 'a volume'} root: a path, --include or --exclude selects entries of a dataset`)
    yield { name: top.cid.toString(), cid: top.cid, clamp: false, root: top }
    return
  }
  const keep = entryFilter(options)
  const ref = (entry: DatasetEntry): EntryRef => ({ name: entry.name, cid: entry.root, clamp: true, kind: entry.kind })
  let kept = 0
  if (options.path == null) {
    // `after`: a page of a listing starts past the last name of the one before, reading only the index nodes from there
    for await (const entry of datasetEntries(top.root, indexReader(source, top, options), { from: options.after })) {
      if (entry.name === options.after) continue
      if (keep(entry.name)) { kept++; yield ref(entry) }
    }
  } else {
    const path = normalisePath(options.path)
    const exact = await lookupEntry(source, top, path, options)
    if (exact != null && keep(exact.name)) { kept++; yield ref(exact) }
    const dir = `${path}/`
    for await (const entry of datasetEntries(top.root, indexReader(source, top, options), { from: dir })) {
      if (!entry.name.startsWith(dir)) break
      if (keep(entry.name)) { kept++; yield ref(entry) }
    }
  }
  if (kept === 0 && (options.path != null || globs)) {
    throw new UsageError(`${top.cid} has no entry${options.path != null ? ` or sub-directory "${normalisePath(options.path)}"` : ''}${globs ? ' that the --include/--exclude patterns keep' : ''}; \`mist-p2p info\` lists what it holds`)
  }
}

/** The dataset entry named exactly `path`, reading only the index nodes on its way. */
export async function lookupEntry (source: BlockSource, top: AnyRoot & { kind: 'dataset' }, path: string, options: PlanReadOptions = {}): Promise<DatasetEntry | undefined> {
  return await lookupDatasetEntry(top.root, normalisePath(path), indexReader(source, top, options))
}

/** Whether any entry's name starts with `dir/`, reading only the index nodes on the way to the first. */
export async function hasEntriesUnder (source: BlockSource, top: AnyRoot & { kind: 'dataset' }, dir: string, options: PlanReadOptions = {}): Promise<boolean> {
  const prefix = `${normalisePath(dir)}/`
  for await (const entry of datasetEntries(top.root, indexReader(source, top, options), { from: prefix })) return entry.name.startsWith(prefix)
  return false
}

function indexReader (source: BlockSource, top: { cid: CID }, options: PlanReadOptions): (c: CID) => Promise<Uint8Array> {
  return async c => readBlock(source, c, 'index', top.cid.toString(), options)
}

/** Reads an entry's root (unless already read) and chooses its level. */
export async function planEntry (source: BlockSource, ref: EntryRef, selection: LevelSelection, options: PlanReadOptions = {}): Promise<EntryPlan> {
  let found = ref.root
  if (found == null) {
    found = await readRoot(source, ref.cid, { ...options, name: ref.name, role: ref.kind })
  }
  if (found.kind === 'image') {
    return planImageLevel(ref.cid, found.root, chooseLevel(found.root.levels, selection, { clamp: ref.clamp, name: ref.name }), ref.name)
  }
  if (found.kind === 'volume') {
    const root = found.root
    const level = chooseLevel(root.levels, selection, { clamp: ref.clamp, name: ref.name })
    const info = root.levels[level]
    return { kind: 'volume', name: ref.name, cid: ref.cid, root, level, width: info.width, height: info.height, bytes: info.bytes }
  }
  throw new UsageError(`${ref.name}: a dataset inside a dataset is not supported`)
}

/** The slice roots of a volume in z order, its shards read as the stream goes. */
export async function * volumeSliceRoots (source: BlockSource, volume: VolumePlan, options: PlanReadOptions = {}): AsyncGenerator<CID> {
  yield * volumeSlices(volume.root, async c => readBlock(source, c, 'shard', volume.name, options))
}

/** One slice of a volume at the volume's level. */
export async function planSlice (source: BlockSource, volume: VolumePlan, z: number, sliceCid: CID, options: PlanReadOptions = {}): Promise<ImagePlan> {
  const name = `${volume.name} slice ${z}`
  const found = await readRoot(source, sliceCid, { ...options, name, role: 'image' })
  if (found.kind !== 'image') throw new FormatError(`${volume.name}: slice ${z} (${sliceCid}) is a ${found.kind}, not an image`)
  // a slice must have the volume's levels: a hostile volume root cannot make a reader fetch or decode beyond them
  checkVolumeSlice(volume.root, found.root, z, name)
  return planImageLevel(sliceCid, found.root, volume.level, name)
}

/** The plan of one level of an image whose root is already read (FormatError for a level it lacks). */
export function planImageLevel (cid: CID, root: ImageRoot, level: number, name = cid.toString()): ImagePlan {
  return { kind: 'image', name, cid, root, level, plan: levelPlan(root, level), bytes: root.levels[level].bytes }
}
