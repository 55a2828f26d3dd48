/**
 * The mist-p2p node: Helia (light) + libp2p with only TCP, Noise, Yamux and Identify,
 * a mandatory pre-shared key (private network), an allow-list connection gater, and Bitswap.
 * No peer discovery, bootstrap, DHT, relay, autonat, UPnP, mDNS, delegated routing or HTTP
 * gateways: the node talks only to the peers it is told about and to members that dial it.
 */
import { withBitswap } from '@helia/bitswap'
import type { BitswapOptions } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import type { HeliaWithLibp2p } from '@helia/libp2p'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { mistPreSharedKey } from './pnet.js'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import type { HeliaInit } from 'helia'
import * as dagCbor from '@ipld/dag-cbor'
import { NetworkError, SwarmKeyError } from '../errors.js'
import { BlockExchange } from './block-exchange.js'
import { BLOCK_PROTOCOL } from './block-protocol.js'
import { blockRequestHandler, type BlockRequestHandler, type BlockServerStats } from './block-server.js'
import { mistConnectionGater } from './gater.js'
import { parseSwarmKey } from './swarm-key.js'
import type { AbortOptions } from '../types.js'

export type Blockstore = NonNullable<HeliaInit['blockstore']>
export type Datastore = NonNullable<HeliaInit['datastore']>

export interface MistNodeOptions {
  /** The repo's blockstore (Repo.blockstore): blocks fetched over bitswap are verified and stored here. */
  blockstore: Blockstore
  /** The repo's datastore (Repo.datastore): helia pins and the libp2p peer store. */
  datastore: Datastore
  /** Persistent identity (loadOrCreateIdentity). */
  privateKey: PrivateKey
  /** Kubo swarm.key bytes. Required: without a valid key the node does not start (SwarmKeyError). */
  swarmKey: Uint8Array
  /** Where the swarm key came from, for error messages (e.g. the file path). */
  swarmKeySource?: string
  /** Listen multiaddrs; default ['/ip4/127.0.0.1/tcp/0']. */
  listen?: string[]
  /** Peers (multiaddrs with /p2p/<id>) dialed at start and redialed whenever the connection drops. */
  peers?: string[]
  /** If set, only these peer IDs may connect or be dialed (both directions, by the connection gater). */
  allowPeers?: string[]
  /** Discover and dial other members on the local network over mDNS (LAN mirrors); off unless asked. */
  mdns?: boolean
  /** How often mDNS queries the LAN, ms; default 10000. */
  mdnsIntervalMs?: number
  /** Bound on one address dial (connectionManager.addressDialTimeout); default 5000 ms. */
  dialTimeoutMs?: number
  /** Bound on the upgrade of an inbound connection (pnet + noise + yamux); default 5000 ms. */
  inboundUpgradeTimeoutMs?: number
  /** Redial backoff for configured peers: first delay and cap, ms; default 500 / 30000. */
  redialMinMs?: number
  redialMaxMs?: number
  /**
   * Serve and use the bulk block protocol (/mist/blocks/1.0.0) besides bitswap; default true.
   * Off only to measure bitswap alone in the benchmark, or to act as a bitswap-only peer in tests.
   */
  blockProtocol?: boolean
  /** Overrides for the bitswap settings chosen in BITSWAP_DEFAULTS. */
  bitswap?: BitswapOptions
  /** Diagnostics (dial failures, refusals). Never receives key material. */
  log?: (message: string) => void
}

export type MistHelia = HeliaWithLibp2p<{ identify: Identify }>

export interface MistNode {
  helia: MistHelia
  peerId: string
  /** Dialable listen addresses, each ending in /p2p/<peerId>. */
  multiaddrs(): string[]
  /**
   * Dials a peer and waits until the connection is accepted (identify completed), so a peer
   * refusing us (allow-list) is an error rather than a connection that drops a moment later.
   */
  dial(addr: string, opts?: AbortOptions): Promise<void>
  /** Peer IDs with an open connection. */
  connectedPeers(): string[]
  /** Whether identify completed with this peer since the node started (diagnostics). */
  identified(peer: string): boolean
  /** The bulk block protocol's client (undefined when the node runs with blockProtocol: false). */
  blocks?: BlockExchange
  /** What the block protocol's server holds now (zeros when it is off). */
  servingStats(): BlockServerStats
  stop(): Promise<void>
}

/**
 * Bitswap settings for bulk transfer between a few known peers (see the report in the tests):
 * - maxWantlistSize 4096 (default 1024): a puller may keep thousands of wants in flight;
 *   the server's per-peer ledger must not truncate them.
 * - sendBlocksConcurrency 1 (default): blocks to one peer go out in order, one message at a time;
 *   more concurrency only interleaves 2 MiB messages on the same yamux connection.
 * - sendBlocksMaxQueueLength 64 (default 10): many incoming wantlist messages may each trigger a
 *   send job; with 10 some were dropped and those wants waited for the next message.
 * - maxOutgoingMessageSize / maxIncomingMessageSize 4 MiB: up to ~15 x 256 KiB blocks per message
 *   (blocks stay <= 1 MiB, bitswap's 2 MiB default also works; fewer, larger messages per stream).
 * - messageSendTimeout / sendBlocksTimeout / messageReceiveTimeout 60 s (default 10 s): a 4 MiB
 *   message on a slow WAN link between sites can take more than 10 s.
 * - sendWantlistDebounce 2 ms / sendBlocksDebounce 2 ms (default 10): lower latency per round trip
 *   while still batching wants that are added in a burst.
 */
export const BITSWAP_DEFAULTS: BitswapOptions = {
  maxWantlistSize: 4096,
  // @helia/bitswap 4.0.19 documents `maxWantlistSize` but its ledger reads `maxWantListSize`
  ...({ maxWantListSize: 4096 } as BitswapOptions),
  sendBlocksConcurrency: 1,
  sendBlocksMaxQueueLength: 64,
  maxOutgoingMessageSize: 4 * 1024 * 1024,
  maxIncomingMessageSize: 4 * 1024 * 1024,
  messageSendTimeout: 60_000,
  sendBlocksTimeout: 60_000,
  messageReceiveTimeout: 60_000,
  sendWantlistDebounce: 2,
  sendBlocksDebounce: 2
}

function bitswapOptions (overrides: BitswapOptions = {}): BitswapOptions {
  const merged: BitswapOptions & { maxWantListSize?: number } = { ...BITSWAP_DEFAULTS, ...overrides }
  if (overrides.maxWantlistSize != null) merged.maxWantListSize = overrides.maxWantlistSize
  return merged
}

function parseAddr (addr: string, what: string): Multiaddr {
  try {
    return multiaddr(addr)
  } catch (err: any) {
    throw new NetworkError(`${what} "${addr}" is not a valid multiaddr: ${err?.message ?? err}`, { cause: err })
  }
}

function peerIdOfAddr (ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast(c => c.name === 'p2p')?.value
}

function parsePeerId (id: string, what: string): PeerId {
  try {
    return peerIdFromString(id)
  } catch (err: any) {
    throw new NetworkError(`${what} "${id}" is not a valid peer ID`, { cause: err })
  }
}

/** Creates and starts a node. Refuses to start without a valid swarm key (SwarmKeyError). */
export async function createMistNode (options: MistNodeOptions): Promise<MistNode> {
  return buildMistNode(options, true)
}

/**
 * The same node WITHOUT the private-network protector, only to measure pnet's cost in the
 * benchmark. Deliberately not exported from the package index; never use it in the product.
 */
export async function createNodeWithoutPnetForBenchmark (options: Omit<MistNodeOptions, 'swarmKey'>): Promise<MistNode> {
  return buildMistNode({ ...options, swarmKey: new Uint8Array() }, false)
}

async function buildMistNode (options: MistNodeOptions, privateNetwork: boolean): Promise<MistNode> {
  // --- validate everything before touching the network
  let psk: Uint8Array | undefined
  if (privateNetwork) {
    if (options.swarmKey == null || options.swarmKey.byteLength === 0) {
      throw new SwarmKeyError('no swarm key: a mist-p2p node only runs in a private network. Run `mist-p2p init` to create one, or `mist-p2p key import <file>` to join the consortium\'s')
    }
    psk = parseSwarmKey(options.swarmKey, options.swarmKeySource ?? 'the swarm key')
  }
  if (options.privateKey == null) throw new NetworkError('no private key: pass the node identity (loadOrCreateIdentity)')
  const self = peerIdFromPrivateKey(options.privateKey)
  const listen = options.listen ?? ['/ip4/127.0.0.1/tcp/0']
  for (const a of listen) parseAddr(a, 'listen address')
  const allowPeers = options.allowPeers?.map(id => parsePeerId(id, 'allowed peer').toString())
  const log = options.log ?? (() => {})
  const peers = (options.peers ?? []).map(a => {
    const ma = parseAddr(a, 'peer address')
    const id = peerIdOfAddr(ma)
    if (id == null) throw new NetworkError(`peer address "${a}" has no /p2p/<peer ID>: the node must know whom it is dialing`)
    const peerId = parsePeerId(id, 'peer ID in peer address')
    if (peerId.equals(self)) throw new NetworkError(`peer address "${a}" is this node itself`)
    if (allowPeers != null && !allowPeers.includes(peerId.toString())) {
      throw new NetworkError(`peer ${peerId} (${a}) is in peers but not in allowPeers: the gater would refuse it`)
    }
    return { ma, peerId }
  })

  const helia = withBitswap(withLibp2pLight(createHeliaLight({
    blockstore: options.blockstore,
    datastore: options.datastore,
    codecs: [dagCbor],
    routers: [], // no delegated routing, no HTTP gateways
    blockBrokers: []
  }), {
    privateKey: options.privateKey,
    addresses: { listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(psk != null ? { connectionProtector: mistPreSharedKey({ psk }) } : {}),
    connectionGater: mistConnectionGater({
      allowPeers,
      onDeny: (id, hook) => { log(`refused peer ${id} (not in the allow-list, ${hook})`) }
    }),
    // LAN discovery only when asked (--mdns): multicast on the local network, service tag of our own;
    // a discovered node that lacks the swarm key still cannot connect
    peerDiscovery: options.mdns === true ? [mdns({ serviceTag: 'mist-p2p.local', interval: options.mdnsIntervalMs ?? 10_000 })] : [],
    services: { identify: identify() },
    connectionManager: {
      addressDialTimeout: options.dialTimeoutMs ?? 5_000,
      dialTimeout: Math.max(options.dialTimeoutMs ?? 5_000, 1_000) * 2,
      inboundUpgradeTimeout: options.inboundUpgradeTimeoutMs ?? 5_000,
      // libp2p's defaults (5 inbound connections per host per second, 10 pending) reset the 6th of
      // 20 getters starting together at one site (one NAT address): seen in test/e2e/faults-load.test.ts
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 256,
      // the built-in KEEP_ALIVE reconnect gives up after 5 tries; our own redial loop never does
      reconnectRetries: 0
    }
  }), bitswapOptions(options.bitswap)) as unknown as MistHelia

  await helia.start()
  const libp2p = helia.libp2p

  // --- the bulk block protocol: served from the repo's own blockstore, never from the network
  let blocks: BlockExchange | undefined
  let server: BlockRequestHandler | undefined
  if (options.blockProtocol !== false) {
    server = blockRequestHandler(options.blockstore as any, { log })
    await libp2p.handle(BLOCK_PROTOCOL, server, { maxInboundStreams: 16, maxOutboundStreams: 16 })
    blocks = new BlockExchange(libp2p, { log })
  }

  // --- configured peers: dial now, redial with backoff whenever the connection drops
  const stopController = new AbortController()
  const minDelay = options.redialMinMs ?? 500
  const maxDelay = options.redialMaxMs ?? 30_000
  const watched = new Map<string, { ma: Multiaddr, delay: number, timer?: NodeJS.Timeout, dialing: boolean }>()
  for (const { ma, peerId } of peers) watched.set(peerId.toString(), { ma, delay: minDelay, dialing: false })

  const connectTo = (id: string): void => {
    const entry = watched.get(id)
    if (entry == null || entry.dialing || stopController.signal.aborted) return
    if (libp2p.getConnections(peerIdFromString(id)).some(c => c.status === 'open')) return
    entry.dialing = true
    dialAccepted(entry.ma, stopController.signal).then(() => {
      entry.delay = minDelay
    }, (err: any) => {
      if (stopController.signal.aborted) return
      log(`dial ${entry.ma.toString()} failed (${err?.message ?? err}); retrying in ${entry.delay} ms`)
      schedule(id)
    }).finally(() => { entry.dialing = false })
  }
  const schedule = (id: string): void => {
    const entry = watched.get(id)
    if (entry == null || entry.timer != null || stopController.signal.aborted) return
    const delay = entry.delay
    entry.delay = Math.min(maxDelay, entry.delay * 2)
    entry.timer = setTimeout(() => { entry.timer = undefined; connectTo(id) }, delay * (0.8 + 0.4 * Math.random()))
    entry.timer.unref?.()
  }
  const onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    if (!watched.has(id) || stopController.signal.aborted) return
    log(`lost connection to peer ${id}; redialing`)
    schedule(id)
  }
  libp2p.addEventListener('peer:disconnect', onDisconnect)
  const identifiedPeers = new Set<string>()
  const onIdentified = (evt: CustomEvent<{ peerId: PeerId }>): void => { identifiedPeers.add(evt.detail.peerId.toString()) }
  libp2p.addEventListener('peer:identify', onIdentified as any)

  /** Dials and waits until identify completes on the new connection, or the remote cuts it. */
  async function dialAccepted (ma: Multiaddr, signal?: AbortSignal): Promise<void> {
    const id = peerIdOfAddr(ma)
    if (id != null && libp2p.getConnections(peerIdFromString(id)).some(c => c.status === 'open')) return
    let conn: Connection
    const waiters: Array<() => void> = []
    const identified = new Set<string>()
    const onIdentify = (evt: CustomEvent<{ connection: Connection }>): void => {
      identified.add(evt.detail.connection.id)
      waiters.forEach(w => { w() })
    }
    const onClose = (): void => { waiters.forEach(w => { w() }) }
    libp2p.addEventListener('peer:identify', onIdentify as any)
    libp2p.addEventListener('connection:close', onClose)
    try {
      try {
        conn = await libp2p.dial(ma, { signal })
      } catch (err: any) {
        throw new NetworkError(`cannot connect to ${ma.toString()}: ${err?.message ?? err} (different swarm key, not allow-listed, or unreachable)`, { cause: err })
      }
      const deadline = Date.now() + 10_000
      while (!identified.has(conn.id)) {
        if (conn.status !== 'open') {
          throw new NetworkError(`${ma.toString()} closed the connection right after it opened: the peer does not accept this node (allow-list?)`)
        }
        // open but slow to identify (or silent): accept it once the wait or the caller's time is up;
        // a get then says which peer did not answer what (peer-report.ts)
        if (signal?.aborted === true && signal.reason?.name !== 'TimeoutError') signal.throwIfAborted()
        if (Date.now() > deadline || signal?.aborted === true) {
          log(`connected to ${ma.toString()}, but it has not completed identify`)
          return
        }
        await new Promise<void>(resolve => {
          const t = setTimeout(resolve, 250)
          waiters.push(() => { clearTimeout(t); resolve() })
        })
        waiters.length = 0
      }
      if (conn.status !== 'open') {
        throw new NetworkError(`${ma.toString()} closed the connection right after it opened: the peer does not accept this node (allow-list?)`)
      }
    } finally {
      libp2p.removeEventListener('peer:identify', onIdentify as any)
      libp2p.removeEventListener('connection:close', onClose)
    }
  }

  for (const id of watched.keys()) connectTo(id)

  // mDNS: dial each member the LAN announces (allow-list permitting); pnet refuses non-members
  const onDiscovery = (evt: CustomEvent<{ id: PeerId }>): void => {
    const id = evt.detail.id
    if (stopController.signal.aborted || id.equals(self)) return
    if (allowPeers != null && !allowPeers.includes(id.toString())) return
    if (libp2p.getConnections(id).some(c => c.status === 'open')) return
    libp2p.dial(id, { signal: stopController.signal }).then(() => { log(`connected to LAN peer ${id.toString()} (mDNS)`) }, (err: any) => { log(`LAN peer ${id.toString()} (mDNS) refused: ${err?.message ?? err}`) })
  }
  if (options.mdns === true) libp2p.addEventListener('peer:discovery', onDiscovery as any)

  let stopped = false
  return {
    helia,
    peerId: self.toString(),
    multiaddrs: () => libp2p.getMultiaddrs().map(ma => {
      const s = ma.toString()
      return peerIdOfAddr(ma) == null ? `${s}/p2p/${self.toString()}` : s
    }),
    dial: async (addr, opts = {}) => {
      const ma = parseAddr(addr, 'address')
      const id = peerIdOfAddr(ma)
      if (id != null) {
        const peerId = parsePeerId(id, 'peer ID in address')
        if (peerId.equals(self)) throw new NetworkError(`${addr} is this node itself`)
        if (allowPeers != null && !allowPeers.includes(peerId.toString())) {
          throw new NetworkError(`peer ${peerId} is not in this node's allow-list`)
        }
      }
      const signal = opts.signal == null ? stopController.signal : AbortSignal.any([opts.signal, stopController.signal])
      await dialAccepted(ma, signal)
    },
    identified: peer => identifiedPeers.has(peer),
    connectedPeers: () => [...new Set(libp2p.getConnections().filter(c => c.status === 'open').map(c => c.remotePeer.toString()))],
    blocks,
    servingStats: () => server?.stats() ?? { streams: 0, peers: 0, heldBytes: 0 },
    stop: async () => {
      if (stopped) return
      stopped = true
      stopController.abort()
      blocks?.stop()
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      libp2p.removeEventListener('peer:identify', onIdentified as any)
      libp2p.removeEventListener('peer:discovery', onDiscovery as any)
      for (const entry of watched.values()) if (entry.timer != null) clearTimeout(entry.timer)
      await helia.stop()
    }
  }
}
