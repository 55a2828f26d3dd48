import type { CID } from 'multiformats/cid'
import { UsageError } from '../../errors.js'
import { abortOnSignals, printJson } from '../common.js'
import { withMist, type StoreOptions } from '../store.js'

/**
 * `mist-p2p unpin <cid|name>`: drops the pin and mirror record of a root (a name: of the root it
 * resolves to now, from the records this repo holds or the members it reaches); `gc` then frees
 * what nothing else keeps.
 */
export async function unpinCommand (target: string, options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    let cid!: CID
    const removed = await withMist({ ...options, network: false }, 'unpin', async mist => {
      const t = await mist.target(target, { signal })
      if (t.path != null) throw new UsageError(`unpin takes a root or a name, not an entry inside one ("${t.path}"): a pin keeps a whole root`)
      cid = t.cid
      return await mist.unpin(cid)
    })
    if (options.json === true) printJson({ root: cid.toString(), ...removed })
    else process.stdout.write(`unpinned ${cid} (${[removed.pin ? 'pin' : undefined, removed.mirror ? 'mirror record' : undefined].filter(x => x != null).join(' and ')} removed); run \`mist-p2p gc\` to free its blocks\n`)
    return 0
  } finally {
    dispose()
  }
}
