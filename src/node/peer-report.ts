/**
 * Why the connected peers did not supply a block, in words for the error message: whether each
 * completed identify, whether it offers the block protocol or bitswap,
 * and what it did with our block requests. A peer that accepts the connection and then answers
 * nothing otherwise looks the same as one that lacks the block.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { BLOCK_PROTOCOL } from './block-protocol.js'
import type { MistNode } from './node.js'

/** At most this many peers are described one by one. */
const DESCRIBED = 8

export async function describePeers (node: MistNode, peers: string[], blocksByPeer: Map<string, number>): Promise<string> {
  const parts: string[] = []
  for (const peer of peers.slice(0, DESCRIBED)) {
    const notes: string[] = []
    let protocols: string[] = []
    try {
      protocols = (await node.helia.libp2p.peerStore.get(peerIdFromString(peer))).protocols
    } catch {}
    const bitswap = protocols.some(p => p.startsWith('/ipfs/bitswap/'))
    if (!node.identified(peer)) notes.push('it never completed identify')
    if (protocols.length > 0 && !protocols.includes(BLOCK_PROTOCOL) && !bitswap) notes.push(`it speaks neither ${BLOCK_PROTOCOL} nor bitswap (it offers ${protocols.join(', ')})`)
    const exchange = node.blocks?.describePeer(peer)
    notes.push(`${BLOCK_PROTOCOL}: ${exchange ?? (node.blocks == null ? 'not used' : 'not asked')}`)
    const got = blocksByPeer.get(peer) ?? 0
    notes.push(got > 0 ? `${got} other block(s) received from it` : 'no block received from it at all')
    parts.push(`${peer} (${notes.join('; ')})`)
  }
  if (peers.length > DESCRIBED) parts.push(`and ${peers.length - DESCRIBED} more`)
  return parts.join(', ')
}
