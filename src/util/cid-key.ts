import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import type { CID } from 'multiformats/cid'

/**
 * A compact, flat Map/Set key for a CID: its binary form as a latin1 string (one byte per
 * character, 36-38 characters for our CIDs). `cid.toString()` builds base32 one character at a
 * time and V8 keeps the result as a rope of string nodes for as long as the key lives, which a
 * large walk's seen-set multiplies (docs/DESIGN.md, "Measurements behind choices"). Not for messages.
 */
export function cidKey (cid: CID): string {
  const b = cid.bytes
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')
}

/**
 * `cid.toString()` as a flat string, for text kept per entry (an output's root in a dataset's
 * results): the base32 encoder builds it one character at a time, a rope of ~60 string nodes
 * that V8 keeps as such, about 2 KiB per kept CID text. Made without `cid.toString()`, which
 * also caches that rope on the CID for as long as the CID lives (a publish keeps every
 * entry's root CID: the ropes were most of its memory at the end).
 */
export function cidText (cid: CID): string {
  const text = cid.version === 0 ? base58btc.baseEncode(cid.bytes) : base32.encode(cid.bytes)
  return Buffer.from(text, 'latin1').toString('latin1')
}
