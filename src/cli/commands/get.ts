import { fetchLevelBlocks } from '../../mirror/index.js'
import { Repo } from '../../repo/index.js'
import { retrieve, type OutputFormat, type LevelSelection } from '../../retrieve/index.js'
import { abortOnSignals, parseCid, printJson } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withStore, type StoreOptions } from '../store.js'

export interface GetCommandOptions extends StoreOptions, LevelSelection {
  output?: string
  format?: OutputFormat
  applyRescale?: boolean
  force?: boolean
}

/** `mist-p2p get <cid> [--level K | --size PX] [-o OUT] [--format ...] [--peer ADDR]` */
export async function getCommand (cidText: string, options: GetCommandOptions): Promise<number> {
  const cid = parseCid(cidText)
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('fetching', 'bytes', options.json !== true)
  try {
    const result = await withStore(options, 'get', async store => {
      const networked = !(store instanceof Repo)
      let fetched
      if (networked) {
        // fetch every block the level needs first, many in flight across all images
        // (a rerun after an interruption fetches only what is still missing)
        fetched = await fetchLevelBlocks(store, cid, {
          level: options.level,
          size: options.size,
          decodableOnly: true,
          signal,
          onProgress: e => {
            if (e.type === 'fetch:planned') progress.addTotal(e.detail.bytes)
            else progress.increment(e.detail.bytes)
          }
        })
      }
      const written = await retrieve(store, cid, {
        level: options.level,
        size: options.size,
        out: options.output,
        format: options.format,
        applyRescale: options.applyRescale === true,
        force: options.force === true,
        signal,
        onProgress: event => {
          if (networked) return
          if (event.type === 'retrieve:planned') progress.addTotal(event.detail.bytes)
          if (event.type === 'retrieve:bytes') progress.increment(event.detail.bytes)
        }
      })
      // a NetworkStore counts the blocks each peer sent
      const net = store as { blocksByPeer?: Map<string, number>, rewants?: number }
      const peers = net.blocksByPeer != null ? Object.fromEntries(net.blocksByPeer) : undefined
      return { ...written, fetched: fetched != null ? { ...fetched, peers, rewants: net.rewants, bitswapBlocks: (net as any).bitswapBlocks } : undefined }
    })
    progress.stop()
    if (options.json === true) {
      printJson(result)
    } else {
      for (const out of result.outputs) {
        process.stdout.write(`${out.paths.length === 1 ? out.paths[0] : `${out.paths.length} files under ${out.paths[0]}…`}  level ${out.level} ${out.width}x${out.height}  ${formatBytes(out.bytes)}\n`)
      }
      for (const failure of result.failures) process.stderr.write(`failed: ${failure.error.name}: ${failure.error.message}\n`)
      const total = result.outputs.reduce((n, o) => n + o.bytes, 0)
      process.stdout.write(`wrote ${result.outputs.length} output(s) from ${formatBytes(total)} of blocks${result.fetched != null ? ` (${formatBytes(result.fetched.freshBytes)} fetched from peers)` : ''}${result.failures.length > 0 ? `, ${result.failures.length} failed` : ''}\n`)
    }
    return result.failures.length > 0 ? 1 : 0
  } finally {
    progress.stop()
    dispose()
  }
}
