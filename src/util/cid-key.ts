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
