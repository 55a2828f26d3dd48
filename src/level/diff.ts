/**
 * `diff <old> <new>`: what changed between two versions of a dataset, and what a mirror of each
 * level must fetch to move from the old version to the new one. The entry lists come from the
 * side-by-side index walk (chunker/dataset-diff.ts: identical subtrees are not read); the bytes
 * come from the level walk of the added and changed entries only, against the blocks the old
 * version's removed and changed entries held at the same level.
 */
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { diffDatasets, EOC_CID, type DatasetEntry } from '../chunker/index.js'
import { FormatError, UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { AbortOptions, OperationOptions, ProgressEvent } from '../types.js'
import { cidKey } from '../util/cid-key.js'
import { MAX_DIRECTORY_DEPTH, walkLevel } from './blocks.js'
import { openRoot } from './plan.js'
import { readRoot, type AnyRoot } from './roots.js'

export interface DiffEntry { name: string, kind: 'image' | 'volume', root: string }

export interface DatasetDiff {
  old: string
  new: string
  added: DiffEntry[]
  removed: DiffEntry[]
  changed: Array<DiffEntry & { oldRoot: string }>
  /**
   * For each level K of the new version: the blocks (and bytes) a mirror holding the old version at
   * level K fetches to hold the new one at level K (new root, index nodes, and the added and changed
   * entries' roots, level files and leaves of levels 0..K that the old version's removed and changed
   * entries did not have, and a version-2 dataset's level-directory nodes of levels 0..K the old trees lack).
   */
  levels: Array<{ level: number, blocks: number, bytes: number }>
  /** Index nodes read on each side (identical subtrees are skipped unread). */
  indexReads: { old: number, new: number }
}

export interface DiffOptions extends OperationOptions<ProgressEvent<'diff:entry', { name: string }>> {}

/** A block of some entry with the lowest level that needs it and its size. */
type Needs = Map<string, { level: number, size: number }>

/**
 * Adds to `needs` every block an entry needs at each of its levels (roots, shards, level files,
 * leaves, EOC), with the lowest level that needs it. Structural blocks are read once per entry.
 */
async function entryNeeds (source: BlockSource, entry: DatasetEntry, needs: Needs, options: AbortOptions): Promise<void> {
  const cache = new Map<string, Uint8Array>()
  const cached: BlockSource = {
    get: async (c, o) => {
      const k = cidKey(c)
      let bytes = cache.get(k)
      if (bytes == null) { bytes = await source.get(c, o); cache.set(k, bytes) }
      return bytes
    },
    has: async (c, o) => source.has(c, o)
  }
  const top: AnyRoot = await readRoot(cached, entry.root, { signal: options.signal, name: entry.name, role: entry.kind })
  const finest = top.root.levels.length - 1
  for (let level = 0; level <= finest; level++) {
    await walkLevel(cached, entry.root, block => {
      const k = cidKey(block.cid)
      if (needs.has(k) && needs.get(k)!.level <= level) return
      const size = block.size ?? cache.get(k)?.byteLength ?? 0
      needs.set(k, { level, size })
    }, { level, levelFiles: true, signal: options.signal })
  }
}

/**
 * The directory nodes of a version-2 level tree (`next`) that the old version's tree of the same
 * level (`prev`) does not have, with their sizes: both trees are walked side by side and a link
 * with the same name and CID on both sides is not read. Level files met on the way are the
 * entries' (counted by entryNeeds) and end the walk there.
 */
async function freshDirectories (source: BlockSource, next: CID, prev: CID | undefined, out: Map<string, number>, options: AbortOptions, depth = 0): Promise<void> {
  if (prev?.equals(next) === true || out.has(cidKey(next))) return
  if (next.code !== dagPb.code || depth > MAX_DIRECTORY_DEPTH) throw new FormatError(`level directory block ${next} is not a dag-pb directory within ${MAX_DIRECTORY_DEPTH} levels`)
  const bytes = await source.get(next, options)
  const node = dagPb.decode(bytes)
  const type = UnixFS.unmarshal(node.Data ?? new Uint8Array()).type
  if (type !== 'directory' && type !== 'hamt-sharded-directory') return
  out.set(cidKey(next), bytes.byteLength)
  let before = new Map<string, CID>()
  if (prev != null && prev.code === dagPb.code) {
    const old = dagPb.decode(await source.get(prev, options))
    before = new Map(old.Links.map(l => [l.Name ?? '', l.Hash]))
  }
  for (const link of node.Links) await freshDirectories(source, link.Hash, before.get(link.Name ?? ''), out, options, depth + 1)
}

export async function diffRoots (source: BlockSource, oldCid: CID, newCid: CID, options: DiffOptions = {}): Promise<DatasetDiff> {
  const reads = { old: 0, new: 0 }
  const newIndex = new Map<string, number>()
  const oldIndex = new Set<string>()
  const [a, b] = await Promise.all([openRoot(source, oldCid, options), openRoot(source, newCid, options)])
  if (a.kind !== 'dataset' || b.kind !== 'dataset') throw new UsageError(`diff compares two dataset roots; ${a.kind !== 'dataset' ? oldCid : newCid} is ${a.kind !== 'dataset' ? a.kind : b.kind} root`)
  const getOld = async (c: CID): Promise<Uint8Array> => { reads.old++; oldIndex.add(cidKey(c)); return source.get(c, { signal: options.signal }) }
  const getNew = async (c: CID): Promise<Uint8Array> => {
    reads.new++
    const bytes = await source.get(c, { signal: options.signal })
    newIndex.set(cidKey(c), bytes.byteLength)
    return bytes
  }
  const out: DatasetDiff = { old: oldCid.toString(), new: newCid.toString(), added: [], removed: [], changed: [], levels: [], indexReads: reads }
  const fresh: Needs = new Map()
  const held: Needs = new Map()
  // the EOC leaf is one block shared by every image: any old version holds it
  held.set(cidKey(CID.parse(EOC_CID)), { level: 0, size: 2 })
  const entry = (e: DatasetEntry): DiffEntry => ({ name: e.name, kind: e.kind, root: e.root.toString() })
  for await (const d of diffDatasets(a.root, b.root, getOld, getNew)) {
    options.signal?.throwIfAborted()
    options.onProgress?.({ type: 'diff:entry', detail: { name: d.entry.name } })
    if (d.change === 'added') out.added.push(entry(d.entry))
    else if (d.change === 'removed') out.removed.push(entry(d.entry))
    else out.changed.push({ ...entry(d.entry), oldRoot: d.old.root.toString() })
    if (d.change !== 'added') await entryNeeds(source, d.change === 'changed' ? d.old : d.entry, held, options)
    if (d.change !== 'removed') await entryNeeds(source, d.entry, fresh, options)
  }
  const structural = (a.cid.equals(b.cid) ? 0 : 1) + [...newIndex.keys()].filter(k => !oldIndex.has(k)).length
  const structuralBytes = (a.cid.equals(b.cid) ? 0 : b.bytes) + [...newIndex].filter(([k]) => !oldIndex.has(k)).reduce((s, [, n]) => s + n, 0)
  // a version-2 dataset's level directories: the nodes of levels 0..K that the old trees lack
  const dirs = new Map<string, number>()
  for (let level = 0; level < b.root.levels.length; level++) {
    const next = b.root.levels[level].dir
    if (next != null) await freshDirectories(source, next, a.root.levels[level]?.dir, dirs, { signal: options.signal })
    let blocks = structural + dirs.size
    let bytes = structuralBytes + [...dirs.values()].reduce((t, n) => t + n, 0)
    for (const [k, need] of fresh) {
      if (need.level > level) continue
      const had = held.get(k)
      if (had != null && had.level <= level) continue
      blocks++
      bytes += need.size
    }
    out.levels.push({ level, blocks, bytes })
  }
  return out
}
