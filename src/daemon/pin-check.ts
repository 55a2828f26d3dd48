/**
 * What the control socket's pin and mirror endpoints require before they record anything:
 * every block the record promises to keep must already be in the repo, read from disk only
 * (never fetched). A pin keeps a root whole: the root, every structural block under it
 * (dataset index, volume shards, image roots, level files) and every leaf of every level. A
 * mirror record keeps levels 0..K: the structural blocks and the leaves and level files of
 * those levels. Without this, a client could record a pin for blocks the repo does not hold,
 * and `serve` would advertise and keep a root it cannot serve.
 */
import type { CID } from 'multiformats/cid'
import { MissingBlockError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { walkLevel } from '../level/blocks.js'
import type { MirrorSelection } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

/** Missing blocks named in the error, at most. */
const NAMED = 3

/**
 * Throws MissingBlockError unless every block `selection` needs under `cid` (all levels when
 * `level` is 'full') is in `local`, naming the first missing ones and how many there are.
 */
export async function assertHeld (local: BlockSource, cid: CID, selection: MirrorSelection, options: AbortOptions & { what: string }): Promise<void> {
  const missing: string[] = []
  let count = 0
  try {
    // structural blocks are read through `local` by the walk (a missing one throws); the rest are checked here
    await walkLevel(local, cid, async block => {
      if (block.fetched) return
      if (!(await local.has(block.cid, { signal: options.signal }))) {
        count++
        if (missing.length < NAMED) missing.push(`${block.role} ${block.cid} of ${block.name}`)
      }
    }, { ...selection, levelFiles: true, signal: options.signal })
  } catch (err) {
    if (err instanceof MissingBlockError) throw new MissingBlockError(`cannot ${options.what} ${cid}: the repo does not hold all of it (${err.message}); store its blocks first`, { cause: err })
    throw err
  }
  if (count > 0) {
    throw new MissingBlockError(`cannot ${options.what} ${cid}: ${count} of its blocks are not in the repo (${missing.join('; ')}${count > missing.length ? '; …' : ''}); store its blocks first`)
  }
}
