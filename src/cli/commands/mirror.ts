import type { LevelSelection } from '../../level/index.js'
import { abortOnSignals, parseTarget, printJson } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/**
 * `mist-p2p mirror <cid> [--level K | --size PX]`: fetch and keep a dataset fully or up to
 * a level (with the level files, so IPFS tools can cat each level from the mirror); a
 * running or later `serve` seeds it.
 */
export async function mirrorCommand (cidText: string, options: StoreOptions & LevelSelection & { include?: string[], exclude?: string[] }): Promise<number> {
  const { cid, path } = parseTarget(cidText)
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('mirroring', 'bytes', options.json !== true)
  try {
    const result = await withMist(options, 'mirror', async mist => mist.mirror(cid, {
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
    }))
    progress.stop()
    if (options.json === true) printJson({ root: cid.toString(), ...result })
    else process.stdout.write(`mirrored ${cid} at ${result.size != null ? `${result.size} px` : `level ${result.level}`}: ${result.images} images, ${result.blocks} blocks, ${formatBytes(result.bytes)} (${formatBytes(result.freshBytes)} fetched now)\n`)
    return 0
  } finally {
    progress.stop()
    dispose()
  }
}
