import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../repo/index.js'
import { levelDirectories, walkLevel } from './blocks.js'
import { openRoot } from './plan.js'
import type { LevelSelection } from './select.js'
import type { OperationOptions, ProgressEvent } from '../types.js'

/**
 * What an IPFS fleet (Kubo, IPFS Cluster) must pin to hold exactly levels 0..K of a root.
 * Level files are pinned recursively: each links its level's leaves and the EOC leaf, so
 * the pin holds that level's codestream and nothing finer. Root, index, volume, shard and
 * image-root blocks are pinned directly: they link every level, so a recursive pin of them
 * would pull the whole archive. The level directories 0..K of a version-2 dataset are pinned
 * recursively too: they link only level files of those levels.
 */
export interface PinPlan {
  root: string
  /** The level asked for ('full', a level index, or the --size it was chosen by). */
  selection: LevelSelection
  /** UnixFS level files of levels 0..k of every image, and a version-2 dataset's level directories 0..K (pin recursively). */
  recursive: string[]
  /** The level directories among `recursive`, one per level 0..K (a CID repeats where levels share a node): `ipfs ls /ipfs/<dirs[k]>` browses level k. */
  dirs: string[]
  /** Dataset, index, volume, shard and image-root blocks (pin directly); the top root first. */
  direct: string[]
  images: number
  /** Bytes of the distinct leaves of levels 0..k and the EOC leaf (what the recursive pins hold, besides the level-file nodes). */
  leafBytes: number
  /** Bytes of the directly pinned blocks. */
  directBytes: number
}

export interface PinPlanOptions extends LevelSelection, OperationOptions<ProgressEvent<'pin-plan:image', { images: number }>> {}

const EOC_BYTES = 2

/** Reads only the structure of `cid` (roots, index, shards; never a leaf) and returns its pin plan. */
export async function planPins (source: BlockSource, cid: CID, options: PinPlanOptions = {}): Promise<PinPlan> {
  const sizes = new Map<string, number>()
  // record the size of every structural block the walk reads, so the plan can state its bytes
  const sizing: BlockSource = {
    get: async (c, o) => {
      const bytes = await source.get(c, o)
      sizes.set(c.toString(), bytes.byteLength)
      return bytes
    },
    has: async (c, o) => source.has(c, o)
  }
  const recursive = new Set<string>()
  const direct: string[] = []
  let eoc = false
  let leafBytes = 0
  const result = await walkLevel(sizing, cid, block => {
    if (block.role === 'leaf') leafBytes += block.size ?? 0
    else if (block.role !== 'file' && block.role !== 'eoc') direct.push(block.cid.toString())
  }, {
    level: options.level,
    size: options.size,
    signal: options.signal,
    onImage: ({ root, level }) => {
      eoc = true
      for (const l of root.levels.slice(0, level + 1)) recursive.add(l.file.toString())
      options.onProgress?.({ type: 'pin-plan:image', detail: { images: 1 } })
    }
  })
  const dirs = levelDirectories(await openRoot(source, cid, { signal: options.signal }), options).map(String)
  for (const d of dirs) recursive.add(d)
  const top = cid.toString()
  const rest = direct.filter(c => c !== top).sort()
  return {
    root: top,
    selection: options.size != null ? { size: options.size } : { level: options.level ?? 'full' },
    recursive: [...recursive].sort(),
    dirs,
    direct: [top, ...rest],
    images: result.images,
    leafBytes: leafBytes + (eoc ? EOC_BYTES : 0),
    directBytes: [top, ...rest].reduce((sum, c) => sum + (sizes.get(c) ?? 0), 0)
  }
}
