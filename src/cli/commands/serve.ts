import { join } from 'node:path'
import { startControlServer } from '../../daemon/control-server.js'
import { assertHeld } from '../../daemon/pin-check.js'
import { blockProtocolEnabled, createMistNode, loadOrCreateIdentity, loadSwarmKey, NetworkStore } from '../../node/index.js'
import { readRepoConfig, Repo } from '../../repo/index.js'
import { printJson, type CommonOptions } from '../common.js'
import { CONTROL_SOCKET } from '../store.js'

export interface ServeOptions extends CommonOptions {
  listen?: string[]
  peer?: string[]
  allowPeer?: string[]
  mdns?: boolean
}

/**
 * `mist-p2p serve`: a long-running node that serves every block of its repo to members of
 * the private network, dials the given and configured peers, and lets the other commands on
 * the same repo work through its control socket. Stops cleanly on SIGINT/SIGTERM.
 */
export async function serveCommand (options: ServeOptions): Promise<number> {
  const repo = await Repo.open({ path: options.repo, create: false, command: 'serve' })
  let stopControl: (() => Promise<void>) | undefined
  let node: Awaited<ReturnType<typeof createMistNode>> | undefined
  try {
    const config = await readRepoConfig(repo.path)
    node = await createMistNode({
      blockstore: repo.blockstore,
      datastore: repo.datastore,
      privateKey: await loadOrCreateIdentity(repo.path),
      swarmKey: await loadSwarmKey(repo.path),
      swarmKeySource: join(repo.path, 'swarm.key'),
      listen: options.listen ?? config.listen ?? ['/ip4/127.0.0.1/tcp/4011'],
      peers: [...(options.peer ?? []), ...(config.peers ?? [])],
      allowPeers: options.allowPeer ?? config.allowPeers,
      mdns: options.mdns,
      blockProtocol: blockProtocolEnabled(),
      log: message => { if (options.json !== true) process.stderr.write(`${message}\n`) }
    })
    const store = new NetworkStore(repo, node)
    const live = node
    const control = await startControlServer(join(repo.path, CONTROL_SOCKET), {
      get: async (cid, o) => store.get(cid, o),
      has: async cid => store.has(cid),
      put: async (cid, bytes) => store.put(cid, bytes),
      // a pin or mirror record is refused until the repo holds what it promises to keep (pin-check.ts)
      pin: async (cid, o) => { await assertHeld(repo, cid, { level: 'full' }, { signal: o.signal, what: 'pin' }); await store.pin(cid, o) },
      isPinned: async cid => store.isPinned(cid),
      id: () => ({ peerId: live.peerId, multiaddrs: live.multiaddrs(), repo: repo.path, peers: live.connectedPeers() }),
      dial: async (addr, o) => live.dial(addr, o),
      recordMirror: async (cid, selection) => { await assertHeld(repo, cid, selection, { what: 'record a mirror of' }); await store.recordMirror(cid, selection) }
    })
    stopControl = control.close
    const info = { peerId: node.peerId, multiaddrs: node.multiaddrs(), repo: repo.path }
    if (options.json === true) printJson(info)
    else process.stdout.write(`serving ${repo.path} as ${node.peerId}\n${info.multiaddrs.map(a => `  ${a}\n`).join('')}`)
    await new Promise<void>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    if (options.json !== true) process.stderr.write('stopping\n')
    return 0
  } finally {
    await stopControl?.()
    await node?.stop()
    await repo.close()
  }
}
