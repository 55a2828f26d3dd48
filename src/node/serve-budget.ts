/**
 * What the block server may hold in memory for its clients: bytes of blocks read from disk and
 * not yet handed to the network, across all streams (`global`) and per remote peer (`perPeer`).
 * A stream that cannot get bytes waits; freed bytes go first to the waiting stream whose peer
 * holds the least, so a peer that pins its share (streams it never reads) cannot starve the others.
 */
export interface ServeBudgetLimits {
  /** Bytes held for all peers together; default 32 MiB. */
  global?: number
  /** Bytes held for one peer; default 8 MiB (a client reads at most 2 streams x 4 blocks ahead). */
  perPeer?: number
}

interface Waiter { peer: string, bytes: number, resolve: () => void, reject: (err: unknown) => void, signal?: AbortSignal, onAbort?: () => void }

export class ServeBudget {
  readonly global: number
  readonly perPeer: number
  private used = 0
  private readonly byPeer = new Map<string, number>()
  private waiters: Waiter[] = []

  constructor (limits: ServeBudgetLimits = {}) {
    this.global = limits.global ?? 32 * 1024 * 1024
    this.perPeer = Math.min(limits.perPeer ?? 8 * 1024 * 1024, this.global)
  }

  /** Bytes held now, in all and for one peer. */
  held (peer?: string): number {
    return peer == null ? this.used : this.byPeer.get(peer) ?? 0
  }

  private fits (peer: string, bytes: number): boolean {
    return this.used + bytes <= this.global && this.held(peer) + bytes <= this.perPeer
  }

  private take (peer: string, bytes: number): void {
    this.used += bytes
    this.byPeer.set(peer, this.held(peer) + bytes)
  }

  /** Takes `bytes` for `peer` if they fit now (nobody waiting comes first). */
  tryAcquire (peer: string, bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(peer, bytes)) return false
    this.take(peer, bytes)
    return true
  }

  /** Waits until `bytes` fit for `peer` (rejects when `signal` aborts). */
  async acquire (peer: string, bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (this.tryAcquire(peer, bytes)) return
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { peer, bytes, resolve, reject, signal }
      waiter.onAbort = () => {
        this.waiters = this.waiters.filter(w => w !== waiter)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Gives back `bytes` of `peer` and hands them to waiters, least-holding peer first. */
  release (peer: string, bytes: number): void {
    if (bytes <= 0) return
    this.used = Math.max(0, this.used - bytes)
    const left = this.held(peer) - bytes
    if (left > 0) this.byPeer.set(peer, left)
    else this.byPeer.delete(peer)
    if (this.waiters.length === 0) return
    const order = [...this.waiters].sort((a, b) => this.held(a.peer) - this.held(b.peer)) // stable: FIFO within a peer
    for (const w of order) {
      if (!this.fits(w.peer, w.bytes)) continue
      this.take(w.peer, w.bytes)
      this.waiters = this.waiters.filter(x => x !== w)
      if (w.onAbort != null) w.signal?.removeEventListener('abort', w.onAbort)
      w.resolve()
    }
  }
}
