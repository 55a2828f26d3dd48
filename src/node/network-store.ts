import type { CID } from 'multiformats/cid'
import { MissingBlockError } from '../errors.js'
import { verifyBlock, type BlockStore, type MirrorSelection, type Repo, type TransferStats } from '../repo/index.js'
import type { Block, AbortOptions } from '../types.js'
import { cidKey } from '../util/cid-key.js'
import { describePeers } from './peer-report.js'
import type { MistNode } from './node.js'

export interface NetworkStoreOptions {
  /** How long one block may take to arrive from peers before it is a MissingBlockError; default 30 s. */
  blockTimeoutMs?: number
  /**
   * A want not answered within this time is cancelled and sent again (default 5 s):
   * under load @helia/bitswap occasionally loses wants and never answers them.
   */
  rewantMs?: number
  /** Bytes of recently fetched blocks kept in memory, so a get that fetches a level and then decodes it does not read them back from disk; default 16 MiB. */
  recentBytes?: number
}

/**
 * What one kept block costs besides its bytes (measured in a heap snapshot: its Map slot, key string, Uint8Array and
 * ArrayBuffer objects): counted against the limit, or a level of tiny blocks would hold
 * hundreds of thousands of them within the byte budget.
 */
const ENTRY_OVERHEAD = 320

/** Recently fetched blocks, oldest first, bounded in bytes, per-block overhead included (content-addressed: never stale). */
class RecentBlocks {
  private readonly blocks = new Map<string, Uint8Array>()
  private bytes = 0
  constructor (private readonly limit: number) {}

  get (key: string): Uint8Array | undefined {
    return this.blocks.get(key)
  }

  add (key: string, block: Uint8Array): void {
    if (block.byteLength > this.limit || this.blocks.has(key)) return
    // a view into a larger network buffer would keep all of it alive: keep a copy of its bytes
    this.blocks.set(key, block.buffer.byteLength > 2 * block.byteLength ? Uint8Array.prototype.slice.call(block) : block)
    this.bytes += block.byteLength + ENTRY_OVERHEAD
    for (const [k, b] of this.blocks) {
      if (this.bytes <= this.limit) break
      this.blocks.delete(k)
      this.bytes -= b.byteLength + ENTRY_OVERHEAD
    }
  }
}

/**
 * The repo seen through a running node: a block held locally is read from disk; any other
 * is wanted from the connected peers over bitswap (Helia verifies it against its CID and
 * stores it in the repo, so the node can serve it on), bounded by a timeout so a block no
 * peer has is an error, never a hang. Writes go through Helia so peers waiting for a block
 * are told at once.
 */
export class NetworkStore implements BlockStore {
  readonly path: string
  readonly remote = true
  /** Wants sent again after going unanswered (see rewantMs). */
  rewants = 0
  /** Blocks received over bitswap (the rest came over the bulk block protocol). */
  bitswapBlocks = 0
  /** Blocks received, by the peer that sent them. */
  readonly blocksByPeer = new Map<string, number>()
  private readonly onProgress = (event: any): void => {
    if (event?.type === 'bitswap:block') {
      this.bitswapBlocks++
      const peer = String(event.detail?.sender)
      this.blocksByPeer.set(peer, (this.blocksByPeer.get(peer) ?? 0) + 1)
    }
  }
  private readonly recent: RecentBlocks
  constructor (readonly repo: Repo, readonly node: MistNode, private readonly options: NetworkStoreOptions = {}) {
    this.path = repo.path
    this.recent = new RecentBlocks(options.recentBytes ?? 16 * 1024 * 1024)
  }

  async has (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    return this.repo.has(cid, options)
  }

  transferStats (): TransferStats {
    return { peers: Object.fromEntries(this.blocksByPeer), rewants: this.rewants, bitswapBlocks: this.bitswapBlocks }
  }

  /**
   * `notHeld`: the caller has just checked that the repo lacks the block (fetchLevelBlocks),
   * so the local check is skipped; `sizeHint`: the block's size if known (leaves), for batching.
   */
  async get (cid: CID, options: AbortOptions & { timeoutMs?: number, sizeHint?: number, notHeld?: boolean } = {}): Promise<Uint8Array> {
    const key = cidKey(cid)
    const recent = this.recent.get(key)
    if (recent != null) return recent
    if (options.notHeld !== true) {
      // one read attempt (no existence check first: each is a filesystem call per block)
      try {
        return await this.repo.get(cid, options)
      } catch (err) {
        if (!(err instanceof MissingBlockError)) throw err
      }
    }
    const timeoutMs = options.timeoutMs ?? this.options.blockTimeoutMs ?? 30_000
    const rewantMs = this.options.rewantMs ?? 5_000
    const deadline = Date.now() + timeoutMs
    if (this.node.blocks != null) {
      // the bulk block protocol first (verified by the exchange); bitswap if no peer supplied it
      const got = await this.node.blocks.fetch(cid, { signal: options.signal, sizeHint: options.sizeHint, timeoutMs }).catch((err: any) => {
        if (options.signal?.aborted === true) throw err
        return undefined
      })
      if (got != null) {
        this.blocksByPeer.set(got.peer, (this.blocksByPeer.get(got.peer) ?? 0) + 1)
        // verified by the exchange; into the repo without an existence check (it was just missing;
        // a check costs ~60 µs of main-thread time, and Helia's put would add two more per block)
        await this.repo.putBlock(cid, got.bytes, { signal: options.signal, notHeld: true })
        this.recent.add(key, got.bytes)
        return got.bytes
      }
    }
    let chunks: Uint8Array[] = []
    for (;;) {
      const remaining = deadline - Date.now()
      const attempt = AbortSignal.timeout(Math.max(1, Math.min(remaining, rewantMs)))
      const signal = options.signal != null ? AbortSignal.any([options.signal, attempt]) : attempt
      chunks = []
      try {
        for await (const chunk of this.node.helia.blockstore.get(cid, { signal, onProgress: this.onProgress } as any)) chunks.push(chunk)
        break
      } catch (err: any) {
        if (options.signal?.aborted === true) throw err
        if (!attempt.aborted) throw new MissingBlockError(`block ${cid} could not be fetched: ${err?.message ?? err}`, { cause: err })
        if (Date.now() >= deadline) {
          const peers = this.node.connectedPeers()
          throw new MissingBlockError(`block ${cid} did not arrive within ${(timeoutMs / 1000).toFixed(1)} s from ${peers.length === 0 ? 'any peer (no peer is connected: check --peer and the swarm key)' : `the ${peers.length} connected peer(s): ${await describePeers(this.node, peers, this.blocksByPeer)}`}`, { cause: err })
        }
        // unanswered: the want is cancelled with the attempt; ask again
        this.rewants++
      }
    }
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
    verifyBlock(cid, bytes, 'network: ')
    this.recent.add(key, bytes)
    return bytes
  }

  /** What each connected peer keeps of `root` (asked over /mist/names/1.0.0). */
  async peerLevels (root: CID, options: AbortOptions = {}): Promise<Array<{ peer: string, levels?: 'full' | number | null }>> {
    const { askHolds } = await import('./name-protocol.js')
    return await askHolds(this.node.helia.libp2p, root.toString(), options)
  }

  async putBlocks (blocks: Iterable<Block>, options: AbortOptions = {}): Promise<number> {
    let written = 0
    for (const block of blocks) {
      if (await this.put(block.cid, block.bytes, options)) written += block.bytes.byteLength
    }
    return written
  }

  /** Stores one block through Helia (bitswap wanters are notified). Returns whether it was new. */
  async put (cid: CID, bytes: Uint8Array, options: AbortOptions = {}): Promise<boolean> {
    // held: touched (a gc beside us spares it), not rewritten
    if (await this.repo.touch(cid)) return false
    await this.node.helia.blockstore.put(cid, bytes, options)
    return true
  }

  async pin (cid: CID, options: AbortOptions = {}): Promise<void> {
    await this.repo.pin(cid, options)
  }

  async recordMirror (cid: CID, selection: MirrorSelection): Promise<void> {
    await this.repo.recordMirror(cid, selection)
  }

  async isPinned (cid: CID): Promise<boolean> {
    return this.repo.isPinned(cid)
  }
}
