/**
 * Small validators for decoded DAG nodes: each throws a FormatError that names
 * the node (its CID) and the field, so a corrupt or hostile root is refused
 * with a message a user can act on.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { equals } from 'multiformats/bytes'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { FormatError } from '../errors.js'
import { MAX_BLOCK_BYTES } from './block.js'
import { NODE_VERSION } from './format.js'

/** Validation context: the node's CID or description, for messages. */
export class Checker {
  private label: string | (() => string)

  /** `where` names the node in messages; given as a function, it is only made for a message. */
  constructor (where: string | (() => string)) {
    this.label = where
  }

  get where (): string {
    if (typeof this.label === 'function') this.label = this.label()
    return this.label
  }

  fail (message: string): never {
    throw new FormatError(`${this.where}: ${message}`)
  }

  object (v: unknown, field: string): Record<string, unknown> {
    if (v == null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array || CID.asCID(v) !== null) this.fail(`${field} must be a map`)
    return v as Record<string, unknown>
  }

  array (v: unknown, field: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(`${field} must be a list`)
    const a = v as unknown[]
    if (a.length < min || a.length > max) this.fail(`${field} has ${a.length} items, expected ${min}..${max}`)
    return a
  }

  int (v: unknown, field: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(`${field} must be an integer in ${min}..${max}, got ${String(v)}`)
    return v as number
  }

  bool (v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(`${field} must be a boolean`)
    return v as boolean
  }

  string (v: unknown, field: string, max: number): string {
    if (typeof v !== 'string' || v.length > max) this.fail(`${field} must be a string of at most ${max} characters`)
    return v as string
  }

  literal<T extends string | number> (v: unknown, field: string, ...allowed: T[]): T {
    if (!allowed.includes(v as T)) this.fail(`${field} must be ${allowed.map(a => JSON.stringify(a)).join(' or ')}, got ${JSON.stringify(v) ?? String(v)}`)
    return v as T
  }

  cid (v: unknown, field: string, codec?: number): CID {
    const cid = CID.asCID(v)
    if (cid === null) this.fail(`${field} must be a CID link`)
    if (cid!.version !== 1) this.fail(`${field} must be a CIDv1`)
    if (codec !== undefined && cid!.code !== codec) this.fail(`${field} has codec 0x${cid!.code.toString(16)}, expected 0x${codec.toString(16)}`)
    return cid!
  }
}

/**
 * Throws a FormatError unless `cid` is dag-cbor, `bytes` fit in a block and hash to `cid`.
 * (The hash is checked where sha-256 is synchronous, as in Node; elsewhere the blockstore verifies it.)
 */
export function checkCborBlock (bytes: Uint8Array, cid: CID, c: Checker): void {
  if (cid.code !== dagCbor.code) c.fail(`is not a dag-cbor block (codec 0x${cid.code.toString(16)})`)
  if (bytes.byteLength > MAX_BLOCK_BYTES) c.fail(`block has ${bytes.byteLength} bytes, over ${MAX_BLOCK_BYTES}`)
  const digest = sha256.digest(bytes)
  if (!(digest instanceof Promise) && cid.multihash.code === sha256.code && !equals(digest.digest, cid.multihash.digest)) {
    c.fail('bytes do not match the CID')
  }
}

/** dag-cbor decode with errors turned into FormatError. */
export function decodeCbor (bytes: Uint8Array, c: Checker): Record<string, unknown> {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new FormatError(`${c.where}: not valid dag-cbor: ${(err as Error).message}`, { cause: err })
  }
  return c.object(value, 'node')
}

/**
 * Opens a mist-p2p dag-cbor node for validation: checks the block (codec, size, hash), decodes it
 * and checks its `mist` type and `version` (one of `versions`). Returns the checker (for the node's own fields) and the node.
 */
export function openNode (bytes: Uint8Array, cid: CID, what: string, mist: string, versions: readonly number[] = [NODE_VERSION]): { c: Checker, n: Record<string, unknown> } {
  // named lazily: cid.toString() would also cache its text on the CID, which a caller may keep
  // for long (a publish keeps every entry's root), and most nodes never fail
  const c = new Checker(() => `${what} ${cid.toString()}`)
  checkCborBlock(bytes, cid, c)
  const n = decodeCbor(bytes, c)
  c.literal(n.mist, 'mist', mist)
  c.literal(n.version, 'version', ...versions)
  return { c, n }
}
