import { access } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { NetworkError, RepoBusyError } from '../errors.js'
import { defaultRepoPath, readRepoConfig, Repo, type BlockStore } from '../repo/index.js'
import { checkRepoFileTrusted } from '../repo/trust.js'
import type { CommonOptions } from './common.js'

export interface StoreOptions extends CommonOptions {
  /** Peers to fetch from (multiaddrs with /p2p/<id>), added to the repo config's peers. */
  peer?: string[]
  /** Seconds one block may take to arrive before it is an error. */
  timeout?: number
  create?: boolean
  /** Start a node for the peers (default true); publish works offline. */
  network?: boolean
}

export const CONTROL_SOCKET = 'api.sock'

/**
 * The store a command works on:
 * - a running `mist-p2p serve` on the repo → its control socket (one writer per repo; its node fetches);
 * - else the repo on disk, and, when peers are given (--peer or the repo config), a node of
 *   our own that fetches missing blocks from them;
 * - else the repo alone (offline).
 */
export async function withStore<T> (options: StoreOptions, command: string, fn: (store: BlockStore) => Promise<T>): Promise<T> {
  const path = resolve(options.repo ?? defaultRepoPath())
  const timeoutMs = options.timeout != null ? options.timeout * 1000 : undefined
  let repo: Repo
  try {
    repo = await Repo.open({ path, create: options.create, command })
  } catch (err) {
    const socket = join(path, CONTROL_SOCKET)
    if (err instanceof RepoBusyError && err.holder.command === 'serve' && await access(socket).then(() => true, () => false)) {
      await checkRepoFileTrusted(socket, 'socket', { private: true })
      const { ControlClient } = await import('../daemon/control-client.js')
      const client = new ControlClient(path, socket, { blockTimeoutMs: timeoutMs })
      try {
        for (const addr of options.peer ?? []) await client.dial(addr)
        return await fn(client)
      } finally {
        await client.close()
      }
    }
    throw err
  }
  try {
    const config = await readRepoConfig(path)
    const peers = options.network === false ? [] : [...(options.peer ?? []), ...(config.peers ?? [])]
    if (peers.length === 0) return await fn(repo)
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
      const results = await Promise.allSettled(peers.map(async addr => node.dial(addr, { signal: AbortSignal.timeout(timeoutMs ?? 15_000) })))
      if (results.every(r => r.status === 'rejected')) {
        const reasons = results.map(r => (r as PromiseRejectedResult).reason?.message ?? String((r as PromiseRejectedResult).reason))
        throw new NetworkError(`could not connect to any peer: ${reasons.join('; ')}`)
      }
      return await fn(new NetworkStore(repo, node, { blockTimeoutMs: timeoutMs }))
    } finally {
      await node.stop()
    }
  } finally {
    await repo.close()
  }
}
