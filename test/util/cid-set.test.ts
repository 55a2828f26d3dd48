import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { CidSet } from '../../src/util/cid-set.js'

const bytesOf = (i: number): Uint8Array => new TextEncoder().encode(`block ${i}`)

describe('CidSet', () => {
  it('holds 30,000 CIDs exactly: each added once, found again, others not found', async () => {
    const set = new CidSet()
    const cids = await Promise.all(Array.from({ length: 30_000 }, async (_, i) => CID.createV1(i % 3 === 0 ? raw.code : dagCbor.code, await sha256.digest(bytesOf(i)))))
    for (const c of cids) expect(set.add(c)).toBe(true)
    expect(set.size).toBe(30_000)
    for (const c of cids) expect(set.add(c)).toBe(false)
    // an equal CID made again from its bytes or text is found
    expect(set.has(CID.parse(cids[77].toString()))).toBe(true)
    expect(set.has(CID.decode(cids[29_999].bytes.slice()))).toBe(true)
    for (let i = 30_000; i < 33_000; i++) expect(set.has(CID.createV1(raw.code, await sha256.digest(bytesOf(i))))).toBe(false)
    expect(set.size).toBe(30_000)
  })

  it('tells apart the same digest under another codec or CID version, and keeps other hashes whole', async () => {
    const set = new CidSet()
    const digest = await sha256.digest(bytesOf(1))
    const forms = [CID.createV1(raw.code, digest), CID.createV1(dagCbor.code, digest), CID.createV1(dagPb.code, digest), CID.createV0(digest as any)]
    for (const c of forms) expect(set.add(c)).toBe(true)
    for (const c of forms) expect(set.has(c)).toBe(true)
    const inline = CID.createV1(raw.code, identity.digest(new Uint8Array([1, 2, 3])))
    const long = CID.createV1(raw.code, await sha512.digest(bytesOf(2)))
    expect(set.has(inline)).toBe(false)
    expect(set.add(inline)).toBe(true)
    expect(set.add(long)).toBe(true)
    expect(set.add(CID.createV1(raw.code, identity.digest(new Uint8Array([1, 2, 3]))))).toBe(false)
    expect(set.has(CID.createV1(raw.code, identity.digest(new Uint8Array([1, 2, 4]))))).toBe(false)
    expect(set.size).toBe(6)
  })
})
