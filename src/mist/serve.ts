import { join } from 'node:path'
import { startControlServer } from '../daemon/control-server.js'
import { parseHttpAddress, startHttpGateway, type HttpGateway } from '../http/index.js'
import { assertHeld } from '../daemon/pin-check.js'
import { collectGarbage, listHoldings } from '../gc/index.js'
import { encodeList, getStoredName, nameToJson, publishName, refreshOwnNames, resolveName } from '../names/index.js'
import { catalog, holdsOfRepo } from './catalog.js'
import { askNames, handleNames } from '../node/name-protocol.js'
import { blockProtocolEnabled, createMistNode, loadOrCreateIdentity, loadSwarmKey, NetworkStore } from '../node/index.js'
import { CONTROL_SOCKET, readRepoConfig, type Repo } from '../repo/index.js'

export interface ServeOptions {
  /** Multiaddrs to listen on (default: the repo config's `listen`, else /ip4/127.0.0.1/tcp/4011). */
  listen?: string[]
  /** Peers to dial, added to the repo config's peers. */
  peers?: string[]
  /** Only these peer IDs may connect, in both directions (default: the repo config's allowPeers). */
  allowPeers?: string[]
  /** Find and dial members on the local network over mDNS. */
  mdns?: boolean
  /** Node messages (peers connected, dial failures). */
  log?: (message: string) => void
  /** Also serve the read-only HTTP gateway and viewer on this address (`PORT`, `HOST:PORT`; a bare port binds 127.0.0.1). */
  http?: string
  /** Origins other sites may read the HTTP gateway from (CORS); none by default. */
  httpCors?: string[]
  /** How long an HTTP request may wait for blocks from peers before it ends in 504 (default 30 s). */
  httpTimeoutMs?: number
  /** How often this node's own name records are checked and signed again when half their lifetime is gone (default: the repo config's `nameRefreshSeconds`, else 10 min). */
  nameRefreshMs?: number
}

export interface Serving {
  peerId: string
  multiaddrs: string[]
  /** The store of the running node: local blocks, and the rest from its peers. */
  store: NetworkStore
  /** The HTTP gateway's URL, when `http` was given. */
  http?: string
  stop: () => Promise<void>
}

/**
 * Serves every block of a repo to members of the private network: a listening node that dials
 * the given and configured peers, and the control socket through which the other commands on
 * the same repo work while it runs.
 */
export async function startServing (repo: Repo, options: ServeOptions = {}): Promise<Serving> {
  // a bad --http address is a usage error before any node starts
  if (options.http != null) parseHttpAddress(options.http)
  const config = await readRepoConfig(repo.path)
  const privateKey = await loadOrCreateIdentity(repo.path)
  const node = await createMistNode({
    blockstore: repo.blockstore,
    datastore: repo.datastore,
    privateKey,
    swarmKey: await loadSwarmKey(repo.path),
    swarmKeySource: join(repo.path, 'swarm.key'),
    listen: options.listen ?? config.listen ?? ['/ip4/127.0.0.1/tcp/4011'],
    peers: [...(options.peers ?? []), ...(config.peers ?? [])],
    allowPeers: options.allowPeers ?? config.allowPeers,
    mdns: options.mdns,
    blockProtocol: blockProtocolEnabled(),
    log: options.log
  })
  let gateway: HttpGateway | undefined
  try {
    const store = new NetworkStore(repo, node)
    // any record the repo holds (its own, or the newest accepted from others) is served to members
    await handleNames(node.helia.libp2p, async key => {
      const [peer, name] = key.split('/')
      return peer != null && name != null ? await getStoredName(repo.datastore, peer, name) : undefined
    }, async () => encodeList(repo.datastore, await holdsOfRepo(repo)), async root => await (await holdsOfRepo(repo))(root))
    if (options.http != null) gateway = await startHttpGateway(store, { listen: options.http, corsOrigins: options.httpCors, timeoutMs: options.httpTimeoutMs, log: options.log })
    const control = await startControlServer(join(repo.path, CONTROL_SOCKET), {
      // every block a local command reads or checks is touched: a gc running beside it spares it
      get: async (cid, o) => {
        const bytes = await store.get(cid, o)
        // set aside by a gc between the read and the touch: put it back, the caller relies on it
        if (!(await repo.touch(cid))) await repo.putBlock(cid, bytes, { notHeld: true })
        return bytes
      },
      has: async cid => repo.touch(cid),
      put: async (cid, bytes) => store.put(cid, bytes),
      // a pin or mirror record is refused until the repo holds what it promises to keep (pin-check.ts)
      pin: async (cid, o) => { await assertHeld(repo, cid, { level: 'full' }, { signal: o.signal, what: 'pin' }); await store.pin(cid, o) },
      isPinned: async cid => store.isPinned(cid),
      id: (o = {}) => {
        const gc = (globalThis as { gc?: () => void }).gc
        if (o.collect === true && typeof gc === 'function') gc()
        const { rss, heapUsed, external } = process.memoryUsage()
        return { peerId: node.peerId, multiaddrs: node.multiaddrs(), repo: repo.path, peers: node.connectedPeers(), serving: node.servingStats(), memory: { rss, heapUsed, external }, ...(gateway != null ? { http: gateway.url } : {}) }
      },
      dial: async (addr, o) => node.dial(addr, o),
      recordMirror: async (cid, selection) => { await assertHeld(repo, cid, selection, { what: 'record a mirror of' }); await store.recordMirror(cid, selection) },
      holdings: async o => listHoldings(repo, o),
      unpin: async cid => repo.unpin(cid),
      gc: async o => collectGarbage(repo, o),
      namePublish: async (cid, name, o) => nameToJson(await publishName(repo, repo.datastore, privateKey, cid, name, o)),
      catalog: async o => catalog(repo, store, node, o),
      peerLevels: async (cid, o) => store.peerLevels(cid, o),
      resolve: async (peer, name, o) => nameToJson(await resolveName(repo.datastore, peer, name, async (key, a) => askNames(node.helia.libp2p, key, a), o))
    })
    // this node's names stay valid while it serves (names/refresh.ts): checked now and then periodically
    const refresh = async (): Promise<void> => {
      const done = await refreshOwnNames(repo, repo.datastore, privateKey, { onError: (name, err) => options.log?.(`name ${name}: not signed again: ${err.message}`) })
      for (const r of done) options.log?.(`name ${r.peer}/${r.name}: signed again, sequence ${r.seq}, valid until ${r.validity}`)
    }
    let refreshing = refresh().catch(() => {})
    const refreshTimer = setInterval(() => { refreshing = refreshing.then(refresh).catch(() => {}) }, options.nameRefreshMs ?? (config.nameRefreshSeconds ?? 600) * 1000)
    refreshTimer.unref()
    return {
      peerId: node.peerId,
      multiaddrs: node.multiaddrs(),
      store,
      http: gateway?.url,
      stop: async () => {
        clearInterval(refreshTimer)
        await refreshing
        try { await gateway?.close(); await control.close() } finally { await node.stop() }
      }
    }
  } catch (err) {
    await gateway?.close()
    await node.stop()
    throw err
  }
}
