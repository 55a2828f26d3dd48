import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/** `mist-p2p gc`: removes the blocks no pin or mirror record keeps (through a running serve, by it). */
export async function gcCommand (options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const result = await withMist({ ...options, network: false }, 'gc', async mist => mist.gc({ signal }))
    if (options.json === true) { printJson(result); return 0 }
    const notes = [
      result.resumed ? `an interrupted gc was finished (${result.restoredBlocks} set-aside block(s) put back first)` : undefined,
      result.recentBlocks > 0 ? `${result.recentBlocks} unkept block(s) in use by a writer since gc began are left for the next gc` : undefined
    ].filter(x => x != null)
    process.stdout.write(`freed ${result.freedBlocks} blocks (${formatBytes(result.freedBytes)}); kept ${result.keptBlocks} blocks of ${result.records} pin(s) and mirror record(s)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}\n`)
    return 0
  } finally {
    dispose()
  }
}
