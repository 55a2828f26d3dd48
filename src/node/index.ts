/**
 * mist-p2p's peer-to-peer node: identity, private-network key and the Helia/libp2p node.
 */
// libp2p, yamux, it-queue... call Promise.withResolvers, which Node 20 lacks: load the polyfill first.
import 'promise.withresolvers/auto'

export { createMistNode, BITSWAP_DEFAULTS } from './node.js'
export type { MistNode, MistNodeOptions, MistHelia, Blockstore, Datastore } from './node.js'
export { loadOrCreateIdentity, identityPath, peerIdOf, IDENTITY_FILE } from './identity.js'
export { generateSwarmKey, parseSwarmKey, loadSwarmKey, writeSwarmKey, swarmKeyPath, SWARM_KEY_FILE } from './swarm-key.js'
export type { LoadSwarmKeyOptions } from './swarm-key.js'
export type { SecretFileReadOptions } from './secret-file.js'
export { mistConnectionGater } from './gater.js'
export type { GaterInit } from './gater.js'
export { NetworkStore, type NetworkStoreOptions } from './network-store.js'
export { BlockExchange, type BlockExchangeOptions, type FetchedBlock } from './block-exchange.js'
export { blockRequestHandler, type BlockRequestHandler, type BlockServerOptions, type BlockServerStats } from './block-server.js'
export { BLOCK_PROTOCOL } from './block-protocol.js'

/**
 * The bulk block protocol is on unless MIST_P2P_BITSWAP_ONLY=1 (a diagnostic switch: the
 * benchmark uses it to measure bitswap alone; a node with it set behaves like a plain bitswap peer).
 */
export function blockProtocolEnabled (env: NodeJS.ProcessEnv = process.env): boolean {
  return env.MIST_P2P_BITSWAP_ONLY !== '1'
}
