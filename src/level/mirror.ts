import type { CID } from 'multiformats/cid'
import type { BlockStore } from '../repo/index.js'
import { fetchLevelBlocks, type FetchBlocksOptions, type FetchLevelResult } from './fetch.js'
import type { LevelSelection } from './select.js'

export interface MirrorResult extends FetchLevelResult, LevelSelection {}

/**
 * Makes the store keep a root fully or up to a level: every block of the level with the UnixFS
 * level files (so IPFS tools can cat each level from the mirror); a full mirror is a pin (every
 * block present), a partial one a mirror record. A running or later `serve` seeds it.
 */
export async function mirrorLevel (store: BlockStore, cid: CID, options: Omit<FetchBlocksOptions, 'levelFiles'> = {}): Promise<MirrorResult> {
  const fetched = await fetchLevelBlocks(store, cid, { ...options, levelFiles: true })
  const selection: LevelSelection = options.size != null ? { size: options.size } : { level: options.level ?? 'full' }
  if (selection.level === 'full') await store.pin(cid, { signal: options.signal })
  await store.recordMirror(cid, selection)
  return { ...fetched, ...selection }
}
