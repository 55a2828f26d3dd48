import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../repo/index.js'
import { levelDirectories, walkLevel } from '../level/blocks.js'
import { openRoot } from '../level/plan.js'
import type { LevelSelection } from '../level/select.js'
import type { AbortOptions } from '../types.js'

/**
 * Above this many level files a level-k CAR declares the mist root instead: a header of
 * one CID per image beyond this would pass 10 MB (Kubo's CAR reader refuses headers over 32 MiB).
 */
export const MAX_CAR_ROOTS = 262_144

export interface CarRoots {
  /** The CIDs the CAR header declares. */
  roots: CID[]
  /**
   * 'root': the mist root, whose whole DAG the CAR holds; 'level-dirs': the UnixFS directories
   * of levels 0..K of a version-2 dataset; 'level-files': the chosen level file of every image.
   */
  layout: 'root' | 'level-dirs' | 'level-files'
}

/**
 * The roots a CAR of `selection` under `cid` declares, chosen so that every declared root's
 * DAG is complete inside the CAR (IPFS importers pin declared roots recursively):
 * the mist root when every image is exported at its finest level; else, for a version-2 dataset,
 * its level directories 0..K (directory k links the level-min(k, finest) file of every entry,
 * all in the CAR); else the level file of each image's chosen level, in walk order (each links
 * exactly that level's leaves and EOC).
 * The mist root still comes first among the blocks, which is how `importCar` finds it.
 */
export async function chooseCarRoots (source: BlockSource, cid: CID, selection: LevelSelection & AbortOptions): Promise<CarRoots> {
  const files: CID[] = []
  const seen = new Set<string>()
  let everyFinest = true
  await walkLevel(source, cid, () => {}, {
    level: selection.level,
    size: selection.size,
    signal: selection.signal,
    concurrency: 1, // walk order = CAR root order, so the same export gives the same file
    onImage: ({ root, level }) => {
      if (level !== root.levels.length - 1) everyFinest = false
      const file = root.levels[level].file
      if (seen.has(file.toString())) return
      seen.add(file.toString())
      files.push(file)
    }
  })
  if (everyFinest) return { roots: [cid], layout: 'root' }
  const dirs = levelDirectories(await openRoot(source, cid, { signal: selection.signal }), selection)
  // levels whose directory is the same node declare it once
  if (dirs.length > 0) return { roots: [...new Map(dirs.map(d => [d.toString(), d])).values()], layout: 'level-dirs' }
  if (files.length > MAX_CAR_ROOTS) return { roots: [cid], layout: 'root' }
  return { roots: files, layout: 'level-files' }
}
