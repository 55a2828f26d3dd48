import type { CID } from 'multiformats/cid'
import type { MirrorSelection } from './mirrors.js'
import type { AbortOptions } from '../types.js'

/** Where retrieval reads blocks from: the local repo, or (later) the network through it. */
export interface BlockSource {
  /**
   * The verified bytes of `cid`; MissingBlockError when it cannot be had. Hints a networked
   * source may use: `sizeHint` (the block's size, if known) and `notHeld` (the caller has just
   * seen `has` answer false, so the local check can be skipped).
   */
  get: (cid: CID, options?: AbortOptions & { sizeHint?: number, notHeld?: boolean }) => Promise<Uint8Array>
  /** Whether the block is already held locally. */
  has: (cid: CID, options?: AbortOptions) => Promise<boolean>
  /** True when blocks may come from peers (a node, a running `serve`): a level is then prefetched before decoding. */
  readonly remote?: boolean
  /** What a networked source has received so far, by peer and by protocol. */
  transferStats?: () => TransferStats
  /**
   * What each connected peer says it keeps of a root: 'full', the level K of a partial mirror, null
   * (no record of it), or undefined (it did not say). A getter asking only partial mirrors for a finer
   * level is then told at once (level/fetch.ts).
   */
  peerLevels?: (root: CID, options?: AbortOptions) => Promise<Array<{ peer: string, levels?: 'full' | number | null }>>
}

export interface TransferStats {
  /** Blocks received from each peer (by peer ID). */
  peers: Record<string, number>
  /** Requests sent again to another peer (a wrong block, a stall, a dead peer). */
  rewants: number
  /** Blocks that came over bitswap rather than the block protocol. */
  bitswapBlocks: number
}

/** What publish and mirror write into: the repo on disk, or a running `serve` through its control socket. */
export interface BlockStore extends BlockSource {
  /** The repo directory. */
  readonly path: string
  /** Stores blocks not yet held; returns the bytes newly written. */
  putBlocks: (blocks: Iterable<import('../types.js').Block>, options?: AbortOptions) => Promise<number>
  /** Pins a root whose blocks are all present. */
  pin: (cid: CID, options?: AbortOptions) => Promise<void>
  isPinned: (cid: CID) => Promise<boolean>
  /** Records that the store holds every block of `cid` up to a level (a mirror, full or partial). */
  recordMirror: (cid: CID, selection: MirrorSelection) => Promise<void>
}
