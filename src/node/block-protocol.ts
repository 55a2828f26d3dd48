/**
 * `/mist/blocks/1.0.0`: a bulk block request on one libp2p stream, served from the repo.
 *
 * Request: one length-prefixed message holding up to MAX_REQUEST_BLOCKS binary CIDs, one after
 * another (CIDs are self-delimiting). Response, for each requested CID in request order: a
 * length-prefixed status message of one byte, and after BLOCK a length-prefixed message holding
 * the block's bytes. The server answers only
 * from its own blockstore (never from the network), so a request costs it at most one disk read
 * per CID. Bitswap stays the fallback: a peer that lacks the protocol or a block is asked there.
 *
 * Why: bitswap moves one want list and one block message at a time through debounces and a
 * new stream per message; for a pull of many small blocks that per-message cost, not the
 * network, was the limit (docs/DESIGN.md, bench/RESULTS.md).
 */
import type { CID } from 'multiformats/cid'
import { CID as CIDClass } from 'multiformats/cid'

export const BLOCK_PROTOCOL = '/mist/blocks/1.0.0'

/** CIDs one request may carry. */
export const MAX_REQUEST_BLOCKS = 512
/** Bytes of one request message (512 CIDs of ~36 bytes fit with room). */
export const MAX_REQUEST_BYTES = 64 * 1024
/** Bytes of one response message: a block (bitswap's hard block limit is 2 MiB). */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024

export const STATUS_BLOCK = 0
export const STATUS_NOT_HELD = 1

export function encodeRequest (cids: CID[]): Uint8Array {
  const parts = cids.map(c => c.bytes)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

/** Throws a plain Error on a malformed request; the server then resets the stream. */
export function decodeRequest (bytes: Uint8Array): CID[] {
  const cids: CID[] = []
  let rest = bytes
  while (rest.byteLength > 0) {
    if (cids.length >= MAX_REQUEST_BLOCKS) throw new Error(`request holds more than ${MAX_REQUEST_BLOCKS} CIDs`)
    const [cid, tail] = CIDClass.decodeFirst(rest)
    cids.push(cid)
    rest = tail
  }
  return cids
}
