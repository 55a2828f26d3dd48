import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import PQueue from 'p-queue'
import { FormatError } from '../errors.js'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../repo/index.js'
import { CidSet } from '../util/cid-set.js'
import { openRoot, planEntry, planSlice, rootEntries, volumeSliceRoots, type ImagePlan, type PlanReadOptions } from './plan.js'
import { checkLevelBounds } from './level-header.js'
import { readBlock, type BlockRole } from './roots.js'
import type { EntrySelection } from './entries.js'
import type { LevelSelection } from './select.js'
import type { AbortOptions } from '../types.js'

/** One block a level needs, with its role in the DAG. */
export interface NeededBlock {
  cid: CID
  role: BlockRole | 'leaf' | 'eoc'
  /** The dataset entry (or root CID) it belongs to. */
  name: string
  /** Known size for leaves (from the image root). */
  size?: number
  /** For leaves: the level being fetched and its size, for error messages. */
  level?: { level: number, width: number, height: number }
  /** Structural blocks are read (through the source) during the walk; leaves are not. */
  fetched: boolean
}

export interface WalkOptions extends LevelSelection, EntrySelection, AbortOptions {
  /** Images walked at once (each costs a root read); default 32. */
  concurrency?: number
  /**
   * Also visit the UnixFS level files of levels 0..K (for mirrors and CAR export), and, for a
   * whole version-2 dataset chosen by level, its level directories 0..K (after the entries).
   */
  levelFiles?: boolean
  /** Skip the leaves of a level this release cannot decode (a getter that decodes what it fetches: get); its reader reports the entry's error. */
  decodableOnly?: boolean
  /** Sees every structural block as it is read, with its size. */
  onRead?: PlanReadOptions['onRead']
  /** Sees each image's plan as soon as its root is read (progress totals). */
  onImage?: (plan: ImagePlan) => void
}

/**
 * Visits every block that a level needs under a root of any kind, following the level plan:
 * the root and index nodes (read through `source` as the walk goes), then the leaves of levels
 * 0..K of every image (not read: the caller fetches them, in parallel). Each CID is visited
 * once. `visit` may apply back-pressure by returning a promise.
 */
export async function walkLevel (source: BlockSource, cid: CID, visit: (block: NeededBlock) => Promise<void> | void, options: WalkOptions = {}): Promise<{ images: number, leafBytes: number }> {
  const { signal } = options
  const seen = new CidSet()
  let images = 0
  let leafBytes = 0
  const once = async (block: NeededBlock): Promise<void> => {
    if (!seen.add(block.cid)) return
    await visit(block)
  }
  const read: PlanReadOptions = {
    signal,
    onRead: async (c, role, name, bytes) => {
      await options.onRead?.(c, role, name, bytes)
      await once({ cid: c, role, name, fetched: true })
    }
  }

  const image = async (plan: ImagePlan): Promise<void> => {
    if (options.decodableOnly === true) {
      try { checkLevelBounds(plan.root, plan.level, plan.name) } catch { return }
    }
    images++
    options.onImage?.(plan)
    const { root, name, level } = plan
    const lv = root.levels[level]
    for (const leaf of plan.plan.leaves) {
      leafBytes += leaf.size
      await once({ cid: leaf.cid, role: 'leaf', name, size: leaf.size, fetched: false, level: { level, width: lv.width, height: lv.height } })
    }
    if (options.levelFiles === true) {
      await once({ cid: root.eoc, role: 'eoc', name, size: 2, fetched: false })
      for (const l of root.levels.slice(0, level + 1)) await levelFile(l.file, name)
    }
  }
  const levelFile = async (c: CID, name: string): Promise<void> => {
    if (seen.has(c)) return
    const bytes = await readBlock(source, c, 'file', name, read)
    for (const link of dagPb.decode(bytes).Links) {
      if (link.Hash.code === dagPb.code) await levelFile(link.Hash, name)
    }
  }
  const parallel = async <T>(items: AsyncIterable<T>, fn: (item: T, i: number) => Promise<void>): Promise<void> => {
    const queue = new PQueue({ concurrency: options.concurrency ?? 32 })
    let failure: unknown
    let i = 0
    for await (const item of items) {
      if (failure != null) break
      signal?.throwIfAborted()
      const index = i++
      void queue.add(async () => fn(item, index)).catch(err => { failure ??= err })
      await queue.onSizeLessThan(queue.concurrency)
    }
    await queue.onIdle()
    if (failure != null) throw failure
  }

  const top = await openRoot(source, cid, read)
  await parallel(rootEntries(source, top, { ...read, path: options.path, include: options.include, exclude: options.exclude }), async ref => {
    const plan = await planEntry(source, ref, options, read)
    if (plan.kind === 'image') return await image(plan)
    await parallel(volumeSliceRoots(source, plan, read), async (s, z) => image(await planSlice(source, plan, z, s, read)))
  })
  const dirs = options.levelFiles === true ? levelDirectories(top, options) : []
  // an honest tree has fewer directory nodes per level than entries have path segments (plus HAMT shards): bound what a hostile root can make us fetch
  const maxDirectoryBlocks = dirs.length * (images + 1) * (MAX_DIRECTORY_DEPTH + 1)
  let directoryBlocks = 0
  for (const dir of dirs) await directory(dir, cid.toString(), 0)
  return { images, leafBytes }

  // Every level file under the directories was visited above, so a link not seen yet must be a
  // (sub-)directory or HAMT shard: anything else is not part of this dataset.
  async function directory (c: CID, name: string, depth: number): Promise<void> {
    if (seen.has(c)) return
    if (c.code !== dagPb.code || depth > MAX_DIRECTORY_DEPTH) throw new FormatError(`${name}: level directory block ${c} is not a dag-pb directory within ${MAX_DIRECTORY_DEPTH} levels`)
    if (++directoryBlocks > maxDirectoryBlocks) throw new FormatError(`${name}: its level directories have more than ${maxDirectoryBlocks} nodes for ${images} images; the dataset root is corrupt or hostile`)
    const bytes = await readBlock(source, c, 'dir', name, read)
    let node: dagPb.PBNode
    let type: string
    try {
      node = dagPb.decode(bytes)
      type = UnixFS.unmarshal(node.Data ?? new Uint8Array()).type
    } catch (err: any) {
      throw new FormatError(`${name}: level directory block ${c} is not a UnixFS node: ${err.message}`, { cause: err })
    }
    if (type !== 'directory' && type !== 'hamt-sharded-directory') throw new FormatError(`${name}: level directory block ${c} links a UnixFS ${type} that is none of the dataset's level files`)
    for (const link of node.Links) await directory(link.Hash, name, depth + 1)
  }
}

/** Deepest directory nesting followed: entry names have at most 512 segments (1024 bytes), a volume adds one, HAMTs at most 8 shard levels each. */
export const MAX_DIRECTORY_DEPTH = 513 * 9

/**
 * The level directories a walk includes: those of levels 0..K of a version-2 dataset walked
 * whole (no entry selection) at a level (not --size, whose per-image levels no directory matches).
 */
export function levelDirectories (top: Awaited<ReturnType<typeof openRoot>>, selection: LevelSelection & EntrySelection): CID[] {
  if (top.kind !== 'dataset' || selection.size != null || selection.path != null) return []
  if ((selection.include ?? []).length + (selection.exclude ?? []).length > 0) return []
  const levels = top.root.levels
  const k = selection.level == null || selection.level === 'full' ? levels.length - 1 : Math.min(selection.level, levels.length - 1)
  return levels.slice(0, k + 1).flatMap(l => l.dir != null ? [l.dir] : [])
}
