/**
 * The mark phase of gc: every block some record of the repo keeps. A pin keeps its root whole
 * (every level, with the level files); a mirror record keeps exactly what its selection names
 * (levels 0..K of the entries it covers, with their level files), the same walk `mirror` fetched
 * and the control socket's pin check requires (src/level/blocks.ts walkLevel). Blocks are keyed
 * by multihash, as the blockstore files them, so a block shared by datasets or versions is kept
 * while any record reaches it.
 */
import type { CID } from 'multiformats/cid'
import { MissingBlockError } from '../errors.js'
import { walkLevel } from '../level/blocks.js'
import type { MirrorSelection, Repo } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

/** The blockstore's key of a block: its multihash bytes as a latin1 string. */
export function blockKey (multihash: Uint8Array): string {
  return Buffer.from(multihash.buffer, multihash.byteOffset, multihash.byteLength).toString('latin1')
}

export interface KeepRecord { root: CID, selection: MirrorSelection, what: 'pin' | 'mirror' }

/**
 * Adds to `live` every block the records keep. A record whose structure is not all on disk
 * makes the whole gc stop before anything is removed: what lies under a missing node is unknown.
 */
export async function markRecords (repo: Repo, records: KeepRecord[], live: Set<string>, options: AbortOptions & { onRecord?: (blocks: number) => void } = {}): Promise<void> {
  for (const record of records) {
    options.signal?.throwIfAborted()
    let blocks = 0
    try {
      await walkLevel(repo, record.root, block => {
        live.add(blockKey(block.cid.multihash.bytes))
        blocks++
      }, { ...record.selection, levelFiles: true, signal: options.signal })
    } catch (err) {
      if (err instanceof MissingBlockError) {
        throw new MissingBlockError(`gc stopped before removing anything: the ${record.what} of ${record.root} lacks a block (${err.message}). Fetch it again (\`mist-p2p mirror ${record.root} --peer ADDR\`) or remove the record (\`mist-p2p unpin ${record.root}\`), then rerun gc`, { cause: err })
      }
      throw err
    }
    options.onRecord?.(blocks)
  }
}
