import type { CID } from 'multiformats/cid'
import type { BlockStore } from '../repo/index.js'
import { fetchLevelBlocks, type FetchBlocksOptions, type FetchLevelResult } from './fetch.js'
import type { EntrySelection } from './entries.js'
import type { LevelSelection } from './select.js'

export interface MirrorResult extends FetchLevelResult, LevelSelection, EntrySelection {}

/**
 * Makes the store keep a root fully or up to a level: every block of the level with the UnixFS
 * level files (so IPFS tools can cat each level from the mirror); a full mirror is a pin (every
 * block present), a partial one a mirror record. A running or later `serve` seeds it.
 */
export async function mirrorLevel (store: BlockStore, cid: CID, options: Omit<FetchBlocksOptions, 'levelFiles'> & { follow?: string } = {}): Promise<MirrorResult> {
  const fetched = await fetchLevelBlocks(store, cid, { ...options, levelFiles: true })
  const selection: LevelSelection = options.size != null ? { size: options.size } : { level: options.level ?? 'full' }
  const entries: EntrySelection = {}
  if (options.path != null) entries.path = options.path
  if ((options.include ?? []).length > 0) entries.include = options.include
  if ((options.exclude ?? []).length > 0) entries.exclude = options.exclude
  const whole = Object.keys(entries).length === 0
  // a pin promises every block of the root: only a full mirror of all its entries is one
  if (selection.level === 'full' && whole) await store.pin(cid, { signal: options.signal })
  await store.recordMirror(cid, { ...selection, ...entries, ...(options.follow != null ? { follow: options.follow } : {}) })
  return { ...fetched, ...selection, ...entries }
}
