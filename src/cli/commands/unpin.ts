import { abortOnSignals, parseCid, printJson } from '../common.js'
import { withMist, type StoreOptions } from '../store.js'

/** `mist-p2p unpin <cid>`: drops the pin and mirror record of a root; `gc` then frees what nothing else keeps. */
export async function unpinCommand (cidText: string, options: StoreOptions): Promise<number> {
  const cid = parseCid(cidText)
  const { dispose } = abortOnSignals()
  try {
    const removed = await withMist({ ...options, network: false }, 'unpin', async mist => mist.unpin(cid))
    if (options.json === true) printJson({ root: cid.toString(), ...removed })
    else process.stdout.write(`unpinned ${cid} (${[removed.pin ? 'pin' : undefined, removed.mirror ? 'mirror record' : undefined].filter(x => x != null).join(' and ')} removed); run \`mist-p2p gc\` to free its blocks\n`)
    return 0
  } finally {
    dispose()
  }
}
