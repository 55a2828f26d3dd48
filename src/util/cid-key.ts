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
 * that V8 keeps as such, about 2 KiB per kept CID text.
 */
export function cidText (cid: CID): string {
  return Buffer.from(cid.toString(), 'latin1').toString('latin1')
}
