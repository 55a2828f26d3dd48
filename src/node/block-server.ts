import type { Connection, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { CID } from 'multiformats/cid'
import { decodeRequest, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, STATUS_BLOCK, STATUS_NOT_HELD } from './block-protocol.js'
import { ServeBudget } from './serve-budget.js'
import type { AbortOptions } from '../types.js'

/** The local blockstore the server reads (the repo's: never the network). */
export interface LocalBlocks {
  /** A missing block throws an error named NotFoundError (interface-store). */
  get(cid: CID, options?: AbortOptions): AsyncIterable<Uint8Array> | Promise<Uint8Array> | Uint8Array
}

export interface BlockServerOptions {
  /** Blocks read ahead of the one being sent (disk reads overlap the network); default 4. */
  readAhead?: number
  /** A request not received within this time closes the stream; default 10 s. */
  requestTimeoutMs?: number
  /**
   * A response whose client takes none of its bytes for this long is reset, and what it held is
   * freed; default 10 s (the client itself gives a silent peer up after 5 s).
   */
  sendStallMs?: number
  /** Request streams one peer may have open at once (over all its connections); default 4 (a client opens 2). */
  maxStreamsPerPeer?: number
  /** Memory for blocks read and not yet sent, shared by every stream; default: a ServeBudget of its own (32 MiB, 8 MiB per peer). */
  budget?: ServeBudget
  log?: (message: string) => void
}

/** The block, or undefined when it is not held (one read: no separate existence check). */
async function readLocal (blocks: LocalBlocks, cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined> {
  try {
    const got = blocks.get(cid, { signal })
    if (got instanceof Uint8Array) return got
    if (typeof (got as any)?.then === 'function') return await (got as Promise<Uint8Array>)
    const chunks: Uint8Array[] = []
    for await (const c of got as AsyncIterable<Uint8Array>) chunks.push(c)
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
  } catch (err: any) {
    if (err?.name === 'NotFoundError') return undefined
    throw err
  }
}

/**
 * The stream handler of BLOCK_PROTOCOL: reads one request, answers every CID in order from the
 * local blockstore (BLOCK + bytes, or NOT_HELD), with a few reads in flight ahead of the send
 * and the stream's back-pressure respected. A malformed request or a vanished client ends the
 * stream; nothing here can take the node down. What a client can make the server hold is bounded:
 * each block read counts MAX_RESPONSE_BYTES against the budget until it is read, then its size
 * until the stream has taken it; a peer has at most `maxStreamsPerPeer` streams; a stream whose
 * client stops reading is reset after `sendStallMs`.
 */
/** What the block server holds now: request streams open, the peers they come from, budget bytes held. */
export interface BlockServerStats { streams: number, peers: number, heldBytes: number }

export type BlockRequestHandler = ((stream: Stream, connection?: Connection) => Promise<void>) & { stats: () => BlockServerStats }

export function blockRequestHandler (blocks: LocalBlocks, options: BlockServerOptions = {}): BlockRequestHandler {
  const readAhead = Math.max(1, options.readAhead ?? 4)
  const stallMs = options.sendStallMs ?? 10_000
  const maxStreams = options.maxStreamsPerPeer ?? 4
  const budget = options.budget ?? new ServeBudget()
  const streamsOf = new Map<string, number>()
  const stats = (): BlockServerStats => ({ streams: [...streamsOf.values()].reduce((a, b) => a + b, 0), peers: streamsOf.size, heldBytes: budget.held() })
  const handler = async (stream: Stream, connection?: Connection): Promise<void> => {
    const peer = String(connection?.remotePeer ?? (stream as any).remotePeer ?? 'unknown')
    const open = streamsOf.get(peer) ?? 0
    if (open >= maxStreams) {
      options.log?.(`block request from ${peer} refused: it already has ${open} request streams open (at most ${maxStreams})`)
      stream.abort(new Error(`at most ${maxStreams} block request streams per peer`))
      return
    }
    streamsOf.set(peer, open + 1)
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
    const controller = new AbortController()
    const onClose = (): void => { controller.abort() }
    stream.addEventListener('close', onClose)
    /** Budget bytes held for block i (reserved before its read, its size after). */
    const held = new Map<number, number>()
    const free = (i: number, keep = 0): void => {
      const bytes = held.get(i) ?? 0
      if (keep > 0) held.set(i, keep)
      else held.delete(i)
      budget.release(peer, bytes - keep)
    }
    let watchdog: ReturnType<typeof setInterval> | undefined
    try {
      const request = await lp.read({ signal: AbortSignal.any([controller.signal, AbortSignal.timeout(options.requestTimeoutMs ?? 10_000)]) })
      const cids = decodeRequest(request.subarray())
      const reads: Array<Promise<Uint8Array | undefined> | undefined> = []
      let started = 0
      const start = (): void => {
        const i = started++
        held.set(i, MAX_RESPONSE_BYTES)
        const p = readLocal(blocks, cids[i], controller.signal)
        p.catch(() => {}) // awaited below in order; keep an early failure from being unhandled
        reads[i] = p
      }
      // a client that takes nothing for stallMs loses the stream (and what it held)
      let writing = false
      let lastLength = -1
      let lastChange = Date.now()
      watchdog = setInterval(() => {
        const length = (stream as any).writeBufferLength ?? 0
        if (length !== lastLength) { lastLength = length; lastChange = Date.now(); return }
        if (writing && Date.now() - lastChange >= stallMs) controller.abort(new Error(`the client took no bytes for ${Math.round(stallMs / 1000)} s`))
      }, Math.min(1000, Math.max(50, stallMs / 4)))
      for (let i = 0; i < cids.length; i++) {
        // read ahead while the budget allows; wait for it only when nothing is read for block i
        while (started < cids.length && started < i + readAhead && budget.tryAcquire(peer, MAX_RESPONSE_BYTES)) start()
        if (started === i) {
          await budget.acquire(peer, MAX_RESPONSE_BYTES, controller.signal)
          start()
        }
        let bytes: Uint8Array | undefined
        try {
          bytes = await reads[i]
        } catch (err: any) {
          if (controller.signal.aborted) throw err
          options.log?.(`block request: reading ${cids[i]} failed: ${err?.message ?? err}`)
          bytes = undefined
        }
        reads[i] = undefined // let the block go once sent
        free(i, bytes?.byteLength ?? 0)
        writing = true
        lastChange = Date.now()
        if (bytes == null) {
          await lp.write(Uint8Array.of(STATUS_NOT_HELD), { signal: controller.signal })
        } else {
          await lp.writeV([Uint8Array.of(STATUS_BLOCK), bytes], { signal: controller.signal })
        }
        writing = false
        free(i)
      }
      await stream.close({ signal: AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)]) })
    } catch (err: any) {
      const reason = controller.signal.reason instanceof Error && !/aborted/i.test(controller.signal.reason.message) ? controller.signal.reason : undefined
      if (!controller.signal.aborted || reason != null) options.log?.(`block request from ${peer} ended: ${(reason ?? err)?.message ?? err}`)
      stream.abort(reason ?? (err instanceof Error ? err : new Error(String(err))))
    } finally {
      clearInterval(watchdog)
      stream.removeEventListener('close', onClose)
      controller.abort()
      for (const i of [...held.keys()]) free(i)
      const left = (streamsOf.get(peer) ?? 1) - 1
      if (left > 0) streamsOf.set(peer, left)
      else streamsOf.delete(peer)
    }
  }
  return Object.assign(handler, { stats })
}
