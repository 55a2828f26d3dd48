import type { LevelSelection } from '../../level/index.js'
import type { CID } from 'multiformats/cid'
import { abortOnSignals, printJson } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'
import { UsageError } from '../../errors.js'

/**
 * `mist-p2p mirror <cid> [--level K | --size PX]`: fetch and keep a dataset fully or up to
 * a level (with the level files, so IPFS tools can cat each level from the mirror); a
 * running or later `serve` seeds it.
 */
export async function mirrorCommand (cidText: string, options: StoreOptions & LevelSelection & { include?: string[], exclude?: string[], follow?: boolean, once?: boolean, interval?: string, keep?: number }): Promise<number> {
  if (options.follow === true) return await followCommand(cidText, options)
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

/** `mist-p2p mirror --follow <peer-id>/<name> --level K [--interval 60s] [--keep N] [--once]` */
async function followCommand (text: string, options: StoreOptions & LevelSelection & { once?: boolean, interval?: string, keep?: number }): Promise<number> {
  if ((options as any).include != null || (options as any).exclude != null) throw new UsageError('--follow keeps whole versions: --include/--exclude are not supported with it')
  const { parseLifetime } = await import('./name.js')
  const intervalMs = options.interval != null ? parseLifetime(options.interval) : undefined
  const { signal, dispose } = abortOnSignals()
  try {
    const last = await withMist(options, 'mirror', async mist => mist.follow(text, {
      level: options.level,
      size: options.size,
      keep: options.keep,
      once: options.once === true,
      intervalMs,
      signal,
      onError: err => { process.stderr.write(`follow: ${err.name}: ${err.message}; retrying in ${(intervalMs ?? 60_000) / 1000} s\n`) },
      onProgress: e => {
        const r = e.detail
        if (options.json === true) { if (options.once !== true) printJson(r); return }
        process.stdout.write(r.changed
          ? `${r.name} sequence ${r.seq}: mirrored ${r.root}, ${r.fetchedBlocks} new blocks (${formatBytes(r.fetchedBytes)})${r.dropped.length > 0 ? `; dropped ${r.dropped.join(', ')} (gc frees them)` : ''}\n`
          : `${r.name} sequence ${r.seq}: ${r.root} is mirrored, nothing new\n`)
      }
    }))
    if (options.json === true && options.once === true) printJson(last)
    return 0
  } finally {
    dispose()
  }
}
