import { createHash } from 'node:crypto'
import { equals } from 'multiformats/bytes'
import type { CID } from 'multiformats/cid'
import { BlockVerificationError } from '../errors.js'

const SHA2_256 = 0x12

/** Throws unless `bytes` hash to `cid` (sha2-256 only: the one hash mist-p2p writes). */
export function verifyBlock (cid: CID, bytes: Uint8Array, context = ''): void {
  if (cid.multihash.code !== SHA2_256) {
    throw new BlockVerificationError(`${context}block ${cid} uses hash 0x${cid.multihash.code.toString(16)}; mist-p2p only accepts sha2-256 blocks`)
  }
  const digest = createHash('sha256').update(bytes).digest()
  if (!equals(new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength), cid.multihash.digest)) {
    throw new BlockVerificationError(`${context}block ${cid} is corrupt: its ${bytes.byteLength} bytes do not hash to its CID`)
  }
}
