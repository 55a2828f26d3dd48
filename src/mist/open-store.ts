import { access } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { NetworkError, RepoBusyError } from '../errors.js'
import { CONTROL_SOCKET, defaultRepoPath, readRepoConfig, Repo, type BlockStore } from '../repo/index.js'
import { checkRepoFileTrusted } from '../repo/trust.js'
import type { ControlClient } from '../daemon/control-client.js'

export interface OpenStoreOptions {
  /** Repo directory (default `$MIST_P2P_REPO`, else `~/.mist-p2p`). */
  repo?: string
  /** Create the repo if it does not exist. */
  create?: boolean
  /** Peers to fetch from (multiaddrs with /p2p/<id>), added to the repo config's peers. */
  peers?: string[]
  /** Start a node for the peers (default true); publish works offline. */
  network?: boolean
  /** Milliseconds one block may take to arrive from peers before it is an error. */
  blockTimeoutMs?: number
  /** Named in the repo lock (who holds the repo). */
  command?: string
}

export interface OpenedStore {
  store: BlockStore
  /** This process's node, when one was started for the peers. */
  node?: import('../node/index.js').MistNode
  /** The control socket of a running `serve`, when the store goes through it. */
  control?: ControlClient
  /** The repo on disk, when this process holds it (not when a running `serve` does). */
  repo?: Repo
  close: () => Promise<void>
}

/**
 * The store a command works on:
 * - a running `mist-p2p serve` on the repo → its control socket (one writer per repo; its node fetches);
 * - else the repo on disk, and, when peers are given (options or the repo config), a node of
 *   our own that fetches missing blocks from them;
 * - else the repo alone (offline).
 */
export async function openStore (options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const path = resolve(options.repo ?? defaultRepoPath())
  const command = options.command ?? 'library'
  let repo: Repo
  try {
    repo = await Repo.open({ path, create: options.create, command })
  } catch (err) {
    const socket = join(path, CONTROL_SOCKET)
    if (err instanceof RepoBusyError && err.holder.command === 'serve' && await access(socket).then(() => true, () => false)) {
      // another local user who can write the repo could plant a socket: trust only our own
      await checkRepoFileTrusted(socket, 'socket', { private: true })
      const { ControlClient } = await import('../daemon/control-client.js')
      const client = new ControlClient(path, socket, { blockTimeoutMs: options.blockTimeoutMs, command })
      try {
        for (const addr of options.peers ?? []) await client.dial(addr)
      } catch (dialErr) {
        await client.close()
        throw dialErr
      }
      return { store: client, control: client, close: async () => client.close() }
    }
    throw err
  }
  try {
    const config = await readRepoConfig(path)
    const peers = options.network === false ? [] : [...(options.peers ?? []), ...(config.peers ?? [])]
    if (peers.length === 0) return { store: repo, repo, close: async () => repo.close() }
    // libp2p and Helia load only when a command goes to the network (about 1 s)
    const { createMistNode, loadOrCreateIdentity, loadSwarmKey, NetworkStore, blockProtocolEnabled } = await import('../node/index.js')
    const node = await createMistNode({
      blockstore: repo.blockstore,
      datastore: repo.datastore,
      privateKey: await loadOrCreateIdentity(path),
      swarmKey: await loadSwarmKey(path),
      swarmKeySource: join(path, 'swarm.key'),
      listen: [],
      peers: [],
      allowPeers: config.allowPeers,
      blockProtocol: blockProtocolEnabled()
    })
    try {
      const results = await Promise.allSettled(peers.map(async addr => node.dial(addr, { signal: AbortSignal.timeout(options.blockTimeoutMs ?? 15_000) })))
      if (results.every(r => r.status === 'rejected')) {
        const reasons = results.map(r => (r as PromiseRejectedResult).reason?.message ?? String((r as PromiseRejectedResult).reason))
        throw new NetworkError(`could not connect to any peer: ${reasons.join('; ')}`)
      }
    } catch (err) {
      await node.stop()
      throw err
    }
    const store = new NetworkStore(repo, node, { blockTimeoutMs: options.blockTimeoutMs })
    return {
      store,
      repo,
      node,
      close: async () => {
        try { await node.stop() } finally { await repo.close() }
      }
    }
  } catch (err) {
    await repo.close()
    throw err
  }
}
