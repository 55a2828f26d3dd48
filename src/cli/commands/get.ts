import type { LevelSelection } from '../../level/index.js'
import type { OutputFormat, RetrievedOutput } from '../../retrieve/index.js'
import type { CID } from 'multiformats/cid'
import { abortOnSignals, printJsonPaced } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

export interface GetCommandOptions extends StoreOptions, LevelSelection {
  include?: string[]
  exclude?: string[]
  output?: string
  format?: OutputFormat
  applyRescale?: boolean
  force?: boolean
}

/** `mist-p2p get <cid> [--level K | --size PX] [-o OUT] [--format ...] [--peer ADDR]` */
export async function getCommand (cidText: string, options: GetCommandOptions): Promise<number> {
  // a CID, or a name <peer-id|alias>/<name> resolved once the repo (and its peers) are open
  let cid!: CID
  let path: string | undefined
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('fetching', 'bytes', options.json !== true)
  try {
    // from peers, the bar shows the prefetch (the bytes that move); offline, the blocks read
    let prefetching = false
    // without --json each output is printed as it is written and no record is kept per entry
    const json = options.json === true
    let total = 0
    const printOutput = (out: RetrievedOutput): void => {
      total += out.bytes
      progress.log(`${out.paths.length === 1 ? out.paths[0] : `${out.paths.length} files under ${out.paths[0]}…`}  level ${out.level} ${out.width}x${out.height}  ${formatBytes(out.bytes)}\n`)
    }
    const result = await withMist(options, 'get', async mist => { ({ cid, path } = await mist.target(cidText, { signal })); return await mist.get(cid, {
      level: options.level,
      size: options.size,
      path,
      include: options.include,
      exclude: options.exclude,
      out: options.output,
      format: options.format,
      applyRescale: options.applyRescale === true,
      force: options.force === true,
      keepOutputs: json,
      signal,
      onProgress: event => {
        if (event.type === 'retrieve:output' && !json) printOutput(event.detail)
        if (event.type === 'fetch:planned') { prefetching = true; progress.addTotal(event.detail.bytes) }
        if (event.type === 'fetch:block') progress.increment(event.detail.bytes)
        if (prefetching) return
        if (event.type === 'retrieve:planned') progress.addTotal(event.detail.bytes)
        if (event.type === 'retrieve:bytes') progress.increment(event.detail.bytes)
      }
    }) })
    progress.stop()
    if (json) {
      await printJsonPaced(result)
    } else {
      for (const failure of result.failures) process.stderr.write(`failed: ${failure.error.name}: ${failure.error.message}\n`)
      process.stdout.write(`wrote ${result.written} output(s) from ${formatBytes(total)} of blocks${result.fetched != null ? ` (${formatBytes(result.fetched.freshBytes)} fetched from peers)` : ''}${result.failures.length > 0 ? `, ${result.failures.length} failed` : ''}\n`)
    }
    return result.failures.length > 0 ? 1 : 0
  } finally {
    progress.stop()
    dispose()
  }
}
