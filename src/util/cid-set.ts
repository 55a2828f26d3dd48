/**
 * A set of CIDs for walks over every block of an archive (verify's checked blocks, a level
 * walk's seen set): a CID hashed with SHA-256 is kept as 128 bits of its digest, with its codec
 * and version mixed in, in one open-addressing table of 16 bytes a slot, instead of a string key
 * and a Map entry (about 100 bytes a CID with V8's overheads). Two different blocks share a
 * fingerprint with probability 2^-128 per pair; CIDs of other hash functions are kept whole.
 */
import type { CID } from 'multiformats/cid'
import { cidKey } from './cid-key.js'

const SHA2_256 = 0x12
const WORDS = 4

export class CidSet {
  private table = new Uint32Array(1024 * WORDS)
  private used = 0
  private readonly others = new Set<string>()

  get size (): number { return this.used + this.others.size }

  has (cid: CID): boolean {
    const f = fingerprint(cid)
    if (f === undefined) return this.others.has(cidKey(cid))
    return this.find(f) >= 0
  }

  /** Adds `cid`; false when it was already in the set. */
  add (cid: CID): boolean {
    const f = fingerprint(cid)
    if (f === undefined) {
      const key = cidKey(cid)
      if (this.others.has(key)) return false
      this.others.add(key)
      return true
    }
    const at = this.find(f)
    if (at >= 0) return false
    if ((this.used + 1) * 2 > this.table.length / WORDS) this.resize()
    this.insert(f)
    this.used++
    return true
  }

  /** Slot index of `f`, or -1. */
  private find (f: Uint32Array): number {
    const t = this.table
    const mask = t.length / WORDS - 1
    for (let i = f[1] & mask; ; i = (i + 1) & mask) {
      const o = i * WORDS
      if (t[o] === 0 && t[o + 1] === 0 && t[o + 2] === 0 && t[o + 3] === 0) return -1
      if (t[o] === f[0] && t[o + 1] === f[1] && t[o + 2] === f[2] && t[o + 3] === f[3]) return i
    }
  }

  private insert (f: Uint32Array): void {
    const t = this.table
    const mask = t.length / WORDS - 1
    let i = f[1] & mask
    while (t[i * WORDS] !== 0 || t[i * WORDS + 1] !== 0 || t[i * WORDS + 2] !== 0 || t[i * WORDS + 3] !== 0) i = (i + 1) & mask
    t.set(f, i * WORDS)
  }

  private resize (): void {
    const old = this.table
    this.table = new Uint32Array(old.length * 2)
    for (let o = 0; o < old.length; o += WORDS) {
      if (old[o] !== 0 || old[o + 1] !== 0 || old[o + 2] !== 0 || old[o + 3] !== 0) this.insert(old.subarray(o, o + WORDS))
    }
  }
}

const scratch = new Uint32Array(WORDS)

/** 128 bits of a SHA-256 CID's digest with its codec and version mixed in (never all zero), or undefined for other hashes. */
function fingerprint (cid: CID): Uint32Array | undefined {
  const mh = cid.multihash
  if (mh.code !== SHA2_256 || mh.digest.byteLength !== 32) return undefined
  const d = mh.digest
  const word = (i: number): number => (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0
  scratch[0] = (word(0) ^ Math.imul(cid.code, 0x9e3779b1)) >>> 0
  scratch[1] = word(4)
  scratch[2] = (word(8) ^ cid.version) >>> 0
  scratch[3] = word(12)
  if (scratch[0] === 0 && scratch[1] === 0 && scratch[2] === 0 && scratch[3] === 0) scratch[0] = 1
  return scratch
}
