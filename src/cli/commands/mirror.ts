import type { LevelSelection } from '../../level/index.js'
import type { CID } from 'multiformats/cid'
import { abortOnSignals, printJson } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/**
 * `mist-p2p mirror <cid> [--level K | --size PX]`: fetch and keep a dataset fully or up to
 * a level (with the level files, so IPFS tools can cat each level from the mirror); a
 * running or later `serve` seeds it.
 */
export async function mirrorCommand (cidText: string, options: StoreOptions & LevelSelection & { include?: string[], exclude?: string[] }): Promise<number> {
  // a CID, or a name <peer-id|alias>/<name> resolved once the repo (and its peers) are open
  let cid!: CID
  let path: string | undefined
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('mirroring', 'bytes', options.json !== true)
  try {
    const result = await withMist(options, 'mirror', async mist => { ({ cid, path } = await mist.target(cidText, { signal })); return await mist.mirror(cid, {
      level: options.level,
      size: options.size,
      path,
      include: options.include,
      exclude: options.exclude,
      signal,
      onProgress: e => {
        if (e.type === 'fetch:planned') progress.addTotal(e.detail.bytes)
        else progress.increment(e.detail.bytes)
      }
    }) })
    progress.stop()
    if (options.json === true) printJson({ root: cid.toString(), ...result })
    else process.stdout.write(`mirrored ${cid} at ${result.size != null ? `${result.size} px` : `level ${result.level}`}: ${result.images} images, ${result.blocks} blocks, ${formatBytes(result.bytes)} (${formatBytes(result.freshBytes)} fetched now)\n`)
    return 0
  } finally {
    progress.stop()
    dispose()
  }
}
