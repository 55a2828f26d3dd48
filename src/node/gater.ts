/**
 * The connection gater: an optional allow-list of peer IDs enforced in both directions,
 * and nothing else. In particular it does NOT deny private or loopback addresses
 * (consortium peers sit on private networks; tests use 127.0.0.1).
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

export interface GaterInit {
  /** PeerId strings allowed to connect / be dialed; undefined = any member of the private network. */
  allowPeers?: Iterable<string>
  /** Told about every refusal (peer id and which hook refused). */
  onDeny?: (peerId: string, hook: string) => void
}

export function mistConnectionGater (init: GaterInit = {}): ConnectionGater {
  const allow = init.allowPeers == null ? undefined : new Set(init.allowPeers)
  const deny = (hook: string) => (peerId: PeerId): boolean => {
    if (allow == null) return false
    const id = peerId.toString()
    if (allow.has(id)) return false
    init.onDeny?.(id, hook)
    return true
  }
  return {
    // every address is dialable, private and loopback included
    denyDialMultiaddr: () => false,
    denyInboundConnection: () => false,
    filterMultiaddrForPeer: () => true,
    // the allow-list: checked as soon as the remote peer id is known, again after the upgrade
    denyDialPeer: deny('denyDialPeer'),
    denyOutboundConnection: deny('denyOutboundConnection'),
    denyOutboundEncryptedConnection: deny('denyOutboundEncryptedConnection'),
    denyOutboundUpgradedConnection: deny('denyOutboundUpgradedConnection'),
    denyInboundEncryptedConnection: deny('denyInboundEncryptedConnection'),
    denyInboundUpgradedConnection: deny('denyInboundUpgradedConnection'),
    // no relays in a mist network
    denyInboundRelayReservation: () => true,
    denyOutboundRelayedConnection: () => true,
    denyInboundRelayedConnection: () => true
  }
}
