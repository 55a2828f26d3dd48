import type { CID } from 'multiformats/cid'

/** Where retrieval reads blocks from: the local repo, or (later) the network through it. */
export interface BlockSource {
  /** The verified bytes of `cid`; MissingBlockError when it cannot be had. */
  get: (cid: CID, options?: { signal?: AbortSignal }) => Promise<Uint8Array>
  /** Whether the block is already held locally. */
  has: (cid: CID, options?: { signal?: AbortSignal }) => Promise<boolean>
}
