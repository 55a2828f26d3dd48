/**
 * Before fetching what a level lacks from peers: when every connected peer says it keeps this root
 * only up to a coarser level than the one asked for (partial mirrors), the getter is told at once,
 * not after the block timeout. Peers that do not say, or keep no record of the root (a peer may hold
 * blocks it fetched without a record), leave the decision to the fetch.
 */
import type { CID } from 'multiformats/cid'
import { MissingBlockError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { AbortOptions } from '../types.js'
import { openRoot } from './plan.js'
import type { LevelSelection } from './select.js'

export async function checkPeersHoldLevel (source: BlockSource, cid: CID, selection: LevelSelection, options: AbortOptions = {}): Promise<void> {
  if (source.peerLevels == null || selection.size != null) return
  const top = await openRoot(source, cid, options)
  const finest = top.root.levels.length - 1
  const wanted = selection.level == null || selection.level === 'full' ? finest : Math.min(selection.level, finest)
  const said = await source.peerLevels(cid, options)
  if (said.length === 0) return
  let best = -1
  for (const { levels } of said) {
    if (typeof levels !== 'number') return // full, no record, or no answer: let the fetch find out
    best = Math.max(best, Math.min(levels, finest))
  }
  if (best >= wanted) return
  throw new MissingBlockError(`${cid}: the connected peers hold it only up to level ${best} (${said.map(s => `${s.peer}: 0..${String(s.levels)}`).join(', ')}); level ${wanted} cannot come from them. Ask for --level ${best} or less, or connect to a member that holds more (\`mist-p2p catalog\` shows who holds which levels)`)
}
