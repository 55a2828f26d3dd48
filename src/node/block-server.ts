import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { CID } from 'multiformats/cid'
import { decodeRequest, MAX_REQUEST_BYTES, STATUS_BLOCK, STATUS_NOT_HELD } from './block-protocol.js'

/** The local blockstore the server reads (the repo's: never the network). */
export interface LocalBlocks {
  /** A missing block throws an error named NotFoundError (interface-store). */
  get(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array> | Promise<Uint8Array> | Uint8Array
}

export interface BlockServerOptions {
  /** Blocks read ahead of the one being sent (disk reads overlap the network); default 4. */
  readAhead?: number
  /** A request not received within this time closes the stream; default 10 s. */
  requestTimeoutMs?: number
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
 * stream; nothing here can take the node down.
 */
export function blockRequestHandler (blocks: LocalBlocks, options: BlockServerOptions = {}): (stream: Stream) => Promise<void> {
  const readAhead = Math.max(1, options.readAhead ?? 4)
  return async (stream: Stream): Promise<void> => {
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
    const controller = new AbortController()
    const onClose = (): void => { controller.abort() }
    stream.addEventListener('close', onClose)
    try {
      const request = await lp.read({ signal: AbortSignal.any([controller.signal, AbortSignal.timeout(options.requestTimeoutMs ?? 10_000)]) })
      const cids = decodeRequest(request.subarray())
      const reads: Array<Promise<Uint8Array | undefined> | undefined> = []
      const start = (i: number): void => {
        if (i < cids.length) {
          const p = readLocal(blocks, cids[i], controller.signal)
          p.catch(() => {}) // awaited below in order; keep an early failure from being unhandled
          reads[i] = p
        }
      }
      for (let i = 0; i < readAhead; i++) start(i)
      for (let i = 0; i < cids.length; i++) {
        let bytes: Uint8Array | undefined
        try {
          bytes = await reads[i]
        } catch (err: any) {
          if (controller.signal.aborted) return
          options.log?.(`block request: reading ${cids[i]} failed: ${err?.message ?? err}`)
          bytes = undefined
        }
        reads[i] = undefined // let the block go once sent
        start(i + readAhead)
        if (bytes == null) {
          await lp.write(Uint8Array.of(STATUS_NOT_HELD), { signal: controller.signal })
        } else {
          await lp.writeV([Uint8Array.of(STATUS_BLOCK), bytes], { signal: controller.signal })
        }
      }
      await stream.close({ signal: AbortSignal.timeout(30_000) })
    } catch (err: any) {
      if (!controller.signal.aborted) options.log?.(`block request from ${String((stream as any).remotePeer ?? 'a peer')} ended: ${err?.message ?? err}`)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      stream.removeEventListener('close', onClose)
      controller.abort()
    }
  }
}
