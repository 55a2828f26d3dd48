import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { CID } from 'multiformats/cid'
import { BlockVerificationError } from '../errors.js'
import { verifyBlock } from '../repo/verify.js'
import { cidKey } from '../util/cid-key.js'
import { BLOCK_PROTOCOL, encodeRequest, MAX_REQUEST_BLOCKS, MAX_RESPONSE_BYTES, STATUS_BLOCK, STATUS_NOT_HELD } from './block-protocol.js'
import type { AbortOptions } from '../types.js'

export interface BlockExchangeOptions {
  /**
   * Request streams open at once to one peer; default 2: one streams while the next request waits
   * at the server. More only divides a busy seeder's bandwidth into slower streams.
   */
  streamsPerPeer?: number
  /** CIDs in one request; default 256 (at most MAX_REQUEST_BLOCKS). */
  maxBatchBlocks?: number
  /**
   * Expected bytes of one request (blocks of unknown size count UNKNOWN_SIZE); default 8 MiB.
   * Bounds what one response stream can buffer, and spreads a pull over several peers.
   */
  maxBatchBytes?: number
  /** A peer that sends no byte for this long during a request is given up for it; default 5 s. */
  idleTimeoutMs?: number
  /** Bad blocks after which a peer is no longer asked by this node; default 3. */
  maxStrikes?: number
  log?: (message: string) => void
}

/** What a block of unknown size counts for in a request's byte budget (structural blocks are a few KB). */
const UNKNOWN_SIZE = 64 * 1024

export interface FetchedBlock { bytes: Uint8Array, peer: string }

interface Want {
  cid: CID
  key: string
  size: number
  tried: Set<string>
  waiters: Array<{ resolve: (b: FetchedBlock | undefined) => void, signal?: AbortSignal, onAbort?: () => void, timer?: ReturnType<typeof setTimeout> }>
  inFlight: boolean
}

/**
 * The client side of BLOCK_PROTOCOL. `fetch(cid)` calls made while other requests are in flight
 * are gathered into batches (one request stream each, up to `streamsPerPeer` per peer, always to
 * the connected peer with the fewest open requests), so a pull keeps every peer's link busy
 * with few round trips and each block comes from exactly one peer. Every block is checked
 * against its CID; a wrong block, a NOT_HELD answer, a stalled or failed stream sends the CID to
 * the next peer; when no connected peer is left to ask, `fetch` resolves `undefined` and the
 * caller falls back to bitswap.
 */
export class BlockExchange {
  private readonly wants = new Map<string, Want>()
  private pending: Want[] = []
  private readonly inFlight = new Map<string, number>()
  private readonly unsupported = new Set<string>()
  private readonly strikes = new Map<string, number>()
  /** What went wrong last with each peer, and how many blocks it sent, for error messages. */
  private readonly notes = new Map<string, string>()
  private readonly received = new Map<string, number>()
  private scheduled = false
  private stopped = false

  constructor (private readonly libp2p: Libp2p, private readonly options: BlockExchangeOptions = {}) {}

  /**
   * Fetches one block from the connected peers; `undefined` if none of them could supply it, or
   * none did within `timeoutMs` (a plain timer, cleared on arrival: not an AbortSignal per block,
   * whose timer and dependant-signal bookkeeping outlive the block).
   */
  async fetch (cid: CID, opts: AbortOptions & { sizeHint?: number, timeoutMs?: number } = {}): Promise<FetchedBlock | undefined> {
    opts.signal?.throwIfAborted()
    if (this.stopped) return undefined
    const key = cidKey(cid)
    let want = this.wants.get(key)
    if (want == null) {
      want = { cid, key, size: opts.sizeHint ?? UNKNOWN_SIZE, tried: new Set(), waiters: [], inFlight: false }
      this.wants.set(key, want)
      this.pending.push(want)
      this.schedule()
    }
    const w = want
    return new Promise<FetchedBlock | undefined>((resolve, reject) => {
      const waiter: Want['waiters'][number] = { resolve, signal: opts.signal }
      const leave = (): void => {
        w.waiters = w.waiters.filter(x => x !== waiter)
        if (w.waiters.length === 0 && !w.inFlight) this.drop(w)
        if (waiter.onAbort != null) opts.signal?.removeEventListener('abort', waiter.onAbort)
        clearTimeout(waiter.timer)
      }
      if (opts.signal != null) {
        waiter.onAbort = () => { leave(); reject(opts.signal?.reason ?? new Error('aborted')) }
        opts.signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
      if (opts.timeoutMs != null) waiter.timer = setTimeout(() => { leave(); resolve(undefined) }, opts.timeoutMs)
      w.waiters.push(waiter)
    })
  }

  /** What this peer did with our block requests, in words (undefined if it was never asked). */
  describePeer (peer: string): string | undefined {
    const got = this.received.get(peer) ?? 0
    const note = this.notes.get(peer)
    if (note == null && got === 0) return undefined
    return [got > 0 ? `sent ${got} block(s)` : '', note ?? ''].filter(Boolean).join('; ')
  }

  stop (): void {
    this.stopped = true
    for (const w of [...this.wants.values()]) this.settle(w, undefined)
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    // gather the fetch calls of this turn of the event loop into one batch
    setImmediate(() => { this.scheduled = false; this.pump() })
  }

  private drop (w: Want): void {
    this.wants.delete(w.key)
    this.pending = this.pending.filter(p => p !== w)
  }

  private settle (w: Want, result: FetchedBlock | undefined): void {
    this.wants.delete(w.key)
    for (const waiter of w.waiters) {
      if (waiter.onAbort != null) waiter.signal?.removeEventListener('abort', waiter.onAbort)
      clearTimeout(waiter.timer)
      waiter.resolve(result)
    }
    w.waiters = []
  }

  private candidates (): string[] {
    const peers = new Set<string>()
    for (const c of this.libp2p.getConnections()) {
      if (c.status !== 'open') continue
      const id = c.remotePeer.toString()
      if (this.unsupported.has(id) || (this.strikes.get(id) ?? 0) >= (this.options.maxStrikes ?? 3)) continue
      peers.add(id)
    }
    return [...peers]
  }

  private pump (): void {
    if (this.stopped) return
    const maxStreams = this.options.streamsPerPeer ?? 2
    const maxBlocks = Math.min(this.options.maxBatchBlocks ?? 256, MAX_REQUEST_BLOCKS)
    const maxBytes = this.options.maxBatchBytes ?? 8 * 1024 * 1024
    const peers = this.candidates()
    // wants that no connected peer is left to ask go back to the caller (bitswap fallback)
    const keep: Want[] = []
    for (const w of this.pending) {
      if (w.waiters.length === 0) { this.wants.delete(w.key); continue }
      if (peers.some(p => !w.tried.has(p))) keep.push(w)
      else this.settle(w, undefined)
    }
    this.pending = keep
    for (;;) {
      if (this.pending.length === 0) return
      const free = peers.filter(p => (this.inFlight.get(p) ?? 0) < maxStreams)
      if (free.length === 0) return
      free.sort((a, b) => (this.inFlight.get(a) ?? 0) - (this.inFlight.get(b) ?? 0))
      // what is pending is shared among the free peers, so a pull that asks for everything at once
      // still goes to every seeder rather than in one batch to the first
      const share = Math.max(1, Math.min(maxBlocks, Math.ceil(this.pending.length / free.length)))
      let sent = false
      for (const peer of free) {
        const batch: Want[] = []
        let bytes = 0
        const rest: Want[] = []
        for (const w of this.pending) {
          if (batch.length < share && !w.tried.has(peer) && (batch.length === 0 || bytes + w.size <= maxBytes)) {
            batch.push(w)
            bytes += w.size
          } else {
            rest.push(w)
          }
        }
        if (batch.length === 0) continue
        this.pending = rest
        this.request(peer, batch)
        sent = true
        break
      }
      if (!sent) return
    }
  }

  private request (peer: string, batch: Want[]): void {
    this.inFlight.set(peer, (this.inFlight.get(peer) ?? 0) + 1)
    for (const w of batch) { w.tried.add(peer); w.inFlight = true }
    let answered = 0
    this.exchange(peer, batch, i => { answered = i }).catch((err: any) => {
      if (err?.name === 'UnsupportedProtocolError') {
        this.unsupported.add(peer)
        this.notes.set(peer, 'does not speak it')
      } else {
        this.notes.set(peer, `a request failed after ${answered} of ${batch.length} blocks: ${err?.message ?? err}`)
        this.options.log?.(`block request to ${peer} failed after ${answered} of ${batch.length} blocks: ${err?.message ?? err}`)
      }
    }).finally(() => {
      this.inFlight.set(peer, (this.inFlight.get(peer) ?? 1) - 1)
      // whatever was not answered goes to the next peer
      const again = batch.filter(w => w.inFlight)
      for (const w of again) w.inFlight = false
      this.pending = [...again.filter(w => this.wants.get(w.key) === w), ...this.pending]
      this.pump()
    })
  }

  private async exchange (peer: string, batch: Want[], progress: (answered: number) => void): Promise<void> {
    const idleMs = this.options.idleTimeoutMs ?? 5_000
    const conn = this.libp2p.getConnections().find(c => c.remotePeer.toString() === peer && c.status === 'open')
    if (conn == null) throw new Error('not connected')
    let stream: Stream
    try {
      stream = await conn.newStream(BLOCK_PROTOCOL, { signal: AbortSignal.timeout(idleMs) })
    } catch (err: any) {
      if (err?.name === 'UnsupportedProtocolError') throw err
      throw new Error(`it did not accept a request stream within ${(idleMs / 1000).toFixed(1)} s (${err?.message ?? err})`, { cause: err })
    }
    // a stalled peer is one that sends no byte at all for idleMs (a slow one that keeps sending is not)
    const idle = new AbortController()
    let last = Date.now()
    const onMessage = (): void => { last = Date.now() }
    stream.addEventListener('message', onMessage)
    const watchdog = setInterval(() => {
      if (Date.now() - last > idleMs) idle.abort(new Error(`no data for ${(idleMs / 1000).toFixed(1)} s`))
    }, Math.max(50, Math.min(1000, idleMs / 4)))
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_RESPONSE_BYTES, maxBufferSize: (this.options.maxBatchBytes ?? 8 * 1024 * 1024) * 2 + MAX_RESPONSE_BYTES })
      await lp.write(encodeRequest(batch.map(w => w.cid)), { signal: idle.signal })
      last = Date.now()
      for (let i = 0; i < batch.length; i++) {
        const w = batch[i]
        const status = (await lp.read({ signal: idle.signal })).subarray()
        if (status.byteLength !== 1 || (status[0] !== STATUS_BLOCK && status[0] !== STATUS_NOT_HELD)) throw new Error('malformed response')
        if (status[0] === STATUS_BLOCK) {
          const bytes = (await lp.read({ signal: idle.signal })).subarray()
          w.inFlight = false
          try {
            verifyBlock(w.cid, bytes, `peer ${peer}: `)
          } catch (err) {
            if (!(err instanceof BlockVerificationError)) throw err
            this.strikes.set(peer, (this.strikes.get(peer) ?? 0) + 1)
            this.notes.set(peer, `sent ${this.strikes.get(peer) ?? 0} block(s) that do not match their CID`)
            this.options.log?.(err.message)
            this.pending.unshift(w)
            continue
          }
          this.received.set(peer, (this.received.get(peer) ?? 0) + 1)
          this.settle(w, { bytes, peer })
        } else {
          w.inFlight = false
          this.notes.set(peer, `answered "not held" for ${w.cid}`)
          if (this.wants.get(w.key) === w) this.pending.unshift(w)
        }
        progress(i + 1)
      }
      await stream.close({ signal: AbortSignal.timeout(idleMs) }).catch(() => {})
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw idle.signal.aborted ? idle.signal.reason : err
    } finally {
      clearInterval(watchdog)
      stream.removeEventListener('message', onMessage)
    }
  }
}
