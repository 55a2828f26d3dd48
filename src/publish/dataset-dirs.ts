/**
 * The browsable UnixFS directories of a dataset, one per level (docs/FORMAT.md, section 6):
 * the tree `mist-p2p get <dataset> --level K --format j2c` writes (without its manifest),
 * made of directory nodes that link the images' existing level files, so no image byte is
 * stored twice. An image entry `a/b.png` is the file `a/b.j2c` (its level-k codestream), a
 * volume `ct` the directory `ct/` of `slice-0000.j2c` ...; names are chosen by the same rules
 * as get's output names, in entry order.
 */
import type { CID } from 'multiformats/cid'
import { buildLevelFile } from '../chunker/level-file.js'
import { LevelDirectoryBuilder, buildDirectory, type LevelDirectoryStats, type LevelTarget } from '../chunker/level-dirs.js'
import { volumeSlices, type DatasetEntry, type ImageRoot } from '../chunker/index.js'
import { FormatError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { OutputNames, outputCandidates } from '../retrieve/output-names.js'
import { stripImageExtension } from '../retrieve/retrieve.js'
import type { Block, OperationOptions, ProgressEvent } from '../types.js'
import { readRoot } from '../level/roots.js'
import { cidKey } from '../util/cid-key.js'

/** Beside a dataset's outputs in get; claimed first here too so the trees are identical. */
const MANIFEST = 'manifest.jsonl'

export interface DatasetDirectoriesOptions extends OperationOptions<ProgressEvent<'dirs:entry', { name: string }>> {
  /** Receives every directory node as it is made (the caller stores them). */
  put: (block: Block) => Promise<void>
}

export interface DatasetDirectories {
  /** The top directory of each level, 0 = coarsest. */
  dirs: CID[]
  stats: LevelDirectoryStats
  /** Entries left out because get could not name them either (their names are reported). */
  omitted: Array<{ name: string, reason: string }>
}

/** A level file's cumulative size (its nodes and leaves), checked to rebuild to the root's CID. */
async function levelFileTarget (root: ImageRoot, k: number, where: string): Promise<LevelTarget> {
  const lv = root.levels[k]
  const leaves = [...root.leaves.slice(0, lv.leaves), { cid: root.eoc, size: 2 }]
  const file = await buildLevelFile(leaves)
  if (!file.root.equals(lv.file)) throw new FormatError(`${where}: level ${k} file is ${lv.file}, but its leaves make ${file.root}`)
  return { cid: lv.file, tsize: file.size + file.nodes.reduce((s, n) => s + n.bytes.byteLength, 0) }
}

/** An image's own level targets for dataset levels 0..depth-1: levels past its finest repeat it. */
function toDepth (own: LevelTarget[], depth: number): LevelTarget[] {
  return Array.from({ length: depth }, (_, k) => own[Math.min(k, own.length - 1)])
}

/** Level targets of an image root for dataset levels 0..depth-1 (levels past its finest repeat it). */
async function imageTargets (root: ImageRoot, depth: number, where: string, cache: Map<string, LevelTarget[]>, cid: CID): Promise<LevelTarget[]> {
  const key = cidKey(cid)
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const own: LevelTarget[] = []
  for (let k = 0; k < root.levels.length; k++) own.push(await levelFileTarget(root, k, where))
  const out = toDepth(own, depth)
  if (cache.size < 4096) cache.set(key, out)
  return out
}

/** A dataset entry; an image published in this process may bring its level files (then its root is not read back). */
export type DirectoryEntry = DatasetEntry & { levelFiles?: LevelTarget[] }

/**
 * Builds the level directories of `entries` (in name order, as a dataset index yields them),
 * reading their image and volume roots (and volume slices) from `source`, except the level
 * files an image entry brings.
 */
export async function buildDatasetDirectories (source: BlockSource, entries: AsyncIterable<DirectoryEntry> | Iterable<DirectoryEntry>, depth: number, options: DatasetDirectoriesOptions): Promise<DatasetDirectories> {
  const { signal } = options
  const builder = new LevelDirectoryBuilder(depth, options.put)
  const names = new OutputNames()
  names.claim(MANIFEST, [MANIFEST], false)
  const omitted: DatasetDirectories['omitted'] = []
  const cache = new Map<string, LevelTarget[]>()
  const getBlock = async (c: CID): Promise<Uint8Array> => await source.get(c, { signal })
  for await (const entry of entries) {
    signal?.throwIfAborted()
    // an image root seen before (identical images, the same slice) is not read and decoded again;
    // one just published came with its level files
    let known: LevelTarget[] | undefined
    if (entry.kind === 'image') {
      const own = entry.levelFiles ?? []
      known = own.length > 0 ? toDepth(own, depth) : cache.get(cidKey(entry.root))
    }
    const top = known !== undefined ? undefined : await readRoot(source, entry.root, { name: entry.name, signal })
    let targets: LevelTarget[]
    if (top === undefined) {
      targets = known!
    } else if (top.kind === 'image') {
      targets = await imageTargets(top.root, depth, entry.name, cache, top.cid)
    } else if (top.kind === 'volume') {
      const volume = top.root
      const digits = Math.max(4, String(volume.sliceCount).length)
      const slices: LevelTarget[][] = []
      let z = 0
      for await (const slice of volumeSlices(volume, getBlock)) {
        const seen = cache.get(cidKey(slice))
        if (seen !== undefined) {
          slices.push(seen)
        } else {
          const s = await readRoot(source, slice, { name: `${entry.name} slice ${z}`, signal })
          if (s.kind !== 'image') throw new FormatError(`${entry.name}: slice ${z} (${slice}) is not an image root`)
          slices.push(await imageTargets(s.root, depth, `${entry.name} slice ${z}`, cache, slice))
        }
        z++
      }
      const stats = builder.stats
      const perLevel: LevelTarget[] = []
      const made = new Map<number, LevelTarget>()
      for (let k = 0; k < depth; k++) {
        const own = Math.min(k, volume.levels.length - 1)
        let dir = made.get(own)
        if (dir === undefined) {
          dir = await buildDirectory(slices.map((t, i) => ({ name: `slice-${String(i).padStart(digits, '0')}.j2c`, cid: t[own].cid, tsize: t[own].tsize })), stats, options.put)
          made.set(own, dir)
        }
        perLevel.push(dir)
      }
      targets = perLevel
    } else {
      throw new FormatError(`${entry.name}: ${entry.root} is a ${top.kind} root, not an image or volume`)
    }
    const isDir = top?.kind === 'volume'
    let path: string
    try {
      path = names.claim(entry.name, outputCandidates(entry.name, stripImageExtension(entry.name), isDir ? '' : '.j2c'), isDir)
    } catch (err: any) {
      omitted.push({ name: entry.name, reason: err.message })
      continue
    }
    await builder.add(path, targets)
    options.onProgress?.({ type: 'dirs:entry', detail: { name: entry.name } })
  }
  const dirs = await builder.finish()
  return { dirs: dirs.map(d => d.cid), stats: builder.stats, omitted }
}
