import type { CID } from 'multiformats/cid'

/** Where retrieval reads blocks from: the local repo, or (later) the network through it. */
export interface BlockSource {
  /**
   * The verified bytes of `cid`; MissingBlockError when it cannot be had. Hints a networked
   * source may use: `sizeHint` (the block's size, if known) and `notHeld` (the caller has just
   * seen `has` answer false, so the local check can be skipped).
   */
  get: (cid: CID, options?: { signal?: AbortSignal, sizeHint?: number, notHeld?: boolean }) => Promise<Uint8Array>
  /** Whether the block is already held locally. */
  has: (cid: CID, options?: { signal?: AbortSignal }) => Promise<boolean>
}

/** What publish and mirror write into: the repo on disk, or a running `serve` through its control socket. */
export interface BlockStore extends BlockSource {
  /** The repo directory. */
  readonly path: string
  /** Stores blocks not yet held; returns the bytes newly written. */
  putBlocks: (blocks: Iterable<import('../types.js').Block>, options?: { signal?: AbortSignal }) => Promise<number>
  /** Pins a root whose blocks are all present. */
  pin: (cid: CID, options?: { signal?: AbortSignal }) => Promise<void>
  isPinned: (cid: CID) => Promise<boolean>
  /** Records that the store holds every block of `cid` up to a level (a mirror, full or partial). */
  recordMirror: (cid: CID, selection: { level?: number | 'full', size?: number }) => Promise<void>
}
