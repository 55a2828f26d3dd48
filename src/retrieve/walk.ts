import * as dagPb from '@ipld/dag-pb'
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { checkVolumeSlice, datasetEntries, decodeDatasetRoot, decodeImageRoot, decodeVolumeRoot, rootKind, volumeSlices, type ImageRoot, type VolumeRoot } from '../chunker/index.js'
import { FormatError, MissingBlockError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { cidKey } from '../util/cid-key.js'
import { checkLevelBounds } from './level-header.js'
import { chooseLevel, type LevelSelection } from './select.js'

/** One block a level needs, with its role in the DAG. */
export interface NeededBlock {
  cid: CID
  role: 'dataset' | 'index' | 'volume' | 'shard' | 'image' | 'file' | 'leaf' | 'eoc'
  /** The dataset entry (or root CID) it belongs to. */
  name: string
  /** Known size for leaves (from the image root). */
  size?: number
  /** For leaves: the level being fetched and its size, for error messages. */
  level?: { level: number, width: number, height: number }
  /** Structural blocks are read (through the source) during the walk; leaves are not. */
  fetched: boolean
}

export interface WalkOptions extends LevelSelection {
  signal?: AbortSignal
  /** Images walked at once (each costs a root read); default 32. */
  concurrency?: number
  /** Also visit the UnixFS level files of levels 0..K (for mirrors and CAR export). */
  levelFiles?: boolean
  /** Skip the leaves of a level this release cannot decode (for a getter that decodes what it fetches: get). */
  decodableOnly?: boolean
  /** Called with each image's chosen level's byte count as soon as its root is read. */
  onPlanned?: (bytes: number) => void
}

/**
 * Visits every block that `selection` needs under a root of any kind (dataset, volume,
 * image): the root and index nodes (read through `source` as the walk goes), then the
 * leaves of levels 0..K of every image (not read: the caller fetches them, in parallel).
 * Each CID is visited once. `visit` may apply back-pressure by returning a promise.
 */
export async function walkLevel (source: BlockSource, cid: CID, visit: (block: NeededBlock) => Promise<void> | void, options: WalkOptions = {}): Promise<{ images: number, leafBytes: number }> {
  const { signal } = options
  const seen = new Set<string>()
  let images = 0
  let leafBytes = 0
  const once = async (block: NeededBlock): Promise<void> => {
    const key = cidKey(block.cid)
    if (seen.has(key)) return
    seen.add(key)
    await visit(block)
  }
  const read = async (c: CID, role: NeededBlock['role'], name: string): Promise<Uint8Array> => {
    let bytes: Uint8Array
    try {
      bytes = await source.get(c, { signal })
    } catch (err: any) {
      if (err instanceof MissingBlockError) throw new MissingBlockError(`${name}: its ${role} block ${c} is missing: ${err.message}`, { cause: err })
      throw err
    }
    await once({ cid: c, role, name, fetched: true })
    return bytes
  }
  const getBlock = async (c: CID): Promise<Uint8Array> => read(c, 'index', cid.toString())

  // `bytes`: the root block when the caller already read it (the top-level root)
  const image = async (c: CID, name: string, clamp: boolean, level?: number, bytes?: Uint8Array, slice?: { volume: VolumeRoot, z: number }): Promise<void> => {
    const root: ImageRoot = decodeImageRoot(bytes ?? await read(c, 'image', name), c)
    if (slice != null) checkVolumeSlice(slice.volume, root, slice.z, name)
    const k = level ?? chooseLevel(root.levels, options, { clamp, name })
    if (options.decodableOnly === true) {
      // its leaves are not fetched; the reader that would decode it reports the entry's error
      try { checkLevelBounds(root, k, name) } catch { return }
    }
    images++
    options.onPlanned?.(root.levels[k].bytes)
    const lv = root.levels[k]
    for (const leaf of root.leaves.slice(0, lv.leaves)) {
      leafBytes += leaf.size
      await once({ cid: leaf.cid, role: 'leaf', name, size: leaf.size, fetched: false, level: { level: k, width: lv.width, height: lv.height } })
    }
    if (options.levelFiles === true) {
      await once({ cid: root.eoc, role: 'eoc', name, size: 2, fetched: false })
      for (const l of root.levels.slice(0, k + 1)) await levelFile(l.file, name)
    }
  }
  const levelFile = async (c: CID, name: string): Promise<void> => {
    if (seen.has(cidKey(c))) return
    const node = dagPb.decode(await read(c, 'file', name))
    for (const link of node.Links) {
      if (link.Hash.code === dagPb.code) await levelFile(link.Hash, name)
    }
  }
  const volume = async (c: CID, name: string, clamp: boolean, bytes?: Uint8Array): Promise<void> => {
    const root = decodeVolumeRoot(bytes ?? await read(c, 'volume', name), c)
    const k = chooseLevel(root.levels, options, { clamp, name })
    // slices are taken from the shards as they are walked: the list is never collected
    await parallel(volumeSlices(root, async sc => read(sc, 'shard', name)), async (s, z) => image(s, `${name} slice ${z}`, true, k, undefined, { volume: root, z }))
  }
  const parallel = async <T>(items: Iterable<T> | AsyncIterable<T>, fn: (item: T, i: number) => Promise<void>): Promise<void> => {
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

  const bytes = await source.get(cid, { signal })
  const kind = rootKind(bytes)
  if (kind === 'image') {
    await once({ cid, role: 'image', name: cid.toString(), fetched: true })
    await image(cid, cid.toString(), false, undefined, bytes)
  } else if (kind === 'volume') {
    await once({ cid, role: 'volume', name: cid.toString(), fetched: true })
    await volume(cid, cid.toString(), false, bytes)
  } else if (kind === 'dataset') {
    await once({ cid, role: 'dataset', name: cid.toString(), fetched: true })
    const root = decodeDatasetRoot(bytes, cid)
    await parallel(datasetEntries(root, getBlock), async entry => {
      if (entry.kind === 'volume') await volume(entry.root, entry.name, true)
      else await image(entry.root, entry.name, true)
    })
  } else {
    throw new FormatError(`${cid} is a mist-p2p ${String(kind)} node, not a root`)
  }
  return { images, leafBytes }
}

