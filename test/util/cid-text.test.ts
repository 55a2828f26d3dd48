/**
 * cidText is cid.toString() without caching it on the CID, and a root's checker names the node
 * only for a message: a publish keeps every entry's root CID, and each cached text was a rope of
 * ~60 string nodes kept as long as the CID (most of a 100,000-image publish's end-phase growth).
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { Checker, openNode } from '../../src/chunker/check.js'
import { cidKey, cidText } from '../../src/util/cid-key.js'

describe('cidText and lazy node names', () => {
  it('cidText is the CID\'s text for v0, dag-cbor and raw CIDs, flat, and does not go through toString()', async () => {
    const h = await sha256.digest(new Uint8Array([1, 2, 3]))
    for (const cid of [CID.createV0(h), CID.createV1(dagCbor.code, h), CID.createV1(0x55, h)]) {
      const plain = CID.decode(cid.bytes)
      plain.toString = () => { throw new Error('toString called') }
      expect(cidText(plain)).toBe(cid.toString())
      expect(cidKey(plain)).toHaveLength(cid.bytes.byteLength)
    }
  })

  it('a checker made with a function calls it only when it fails, once', () => {
    let made = 0
    const c = new Checker(() => { made++; return 'node X' })
    expect(c.object({ a: 1 }, 'f')).toEqual({ a: 1 })
    expect(made).toBe(0)
    expect(() => c.object(3, 'field')).toThrow(/^node X: field must be a map$/)
    expect(() => c.fail('again')).toThrow(/^node X: again$/)
    expect(made).toBe(1)
  })

  it('opening a valid node does not make its CID\'s text; a bad one names it', async () => {
    const bytes = dagCbor.encode({ mist: 'image', version: 1 })
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
    const text = cid.toString()
    const kept = CID.decode(cid.bytes)
    let calls = 0
    const original = kept.toString.bind(kept)
    kept.toString = (...args: any[]) => { calls++; return original(...args) }
    expect(openNode(bytes, kept, 'image root', 'image', [1]).n.mist).toBe('image')
    expect(calls).toBe(0)
    expect(() => openNode(bytes, kept, 'image root', 'volume', [1])).toThrow(`image root ${text}: `)
    expect(calls).toBe(1)
  })
})
