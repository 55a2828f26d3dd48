import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { HttpRequestError } from '../../src/errors.js'
import { parseEntityBytes, walkCar, type WalkCarOptions } from '../../src/http/car-walk.js'

/** An in-memory block store of what the tests build. */
function store (): { put: (codec: number, bytes: Uint8Array) => Promise<CID>, get: WalkCarOptions['get'] } {
  const blocks = new Map<string, Uint8Array>()
  return {
    put: async (codec, bytes) => { const cid = CID.createV1(codec, await sha256.digest(bytes)); blocks.set(cid.toString(), bytes); return cid },
    get: async cid => { const b = blocks.get(cid.toString()); if (b == null) throw new Error(`missing ${cid}`); return b }
  }
}

async function collect (root: CID, options: WalkCarOptions): Promise<string[]> {
  const out: string[] = []
  for await (const b of walkCar(root, options)) out.push(b.cid.toString())
  return out
}

const fileNode = (sizes: number[], links: CID[]): Uint8Array => dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'file', blockSizes: sizes.map(BigInt) }).marshal(), Links: links.map(l => ({ Hash: l, Tsize: 0 })) }))

describe('CAR walk (dag-scope, entity-bytes) on hostile and edge-case DAGs', () => {
  it('entity-bytes selects only the leaves a byte range needs, negative offsets from the end', async () => {
    const s = store()
    const leaves = await Promise.all([100, 100, 100].map(async (n, i) => s.put(raw.code, new Uint8Array(n).fill(i))))
    const file = await s.put(dagPb.code, fileNode([100, 100, 100], leaves))
    const ids = leaves.map(String)
    expect(await collect(file, { scope: 'entity', get: s.get, entityBytes: parseEntityBytes('150:250') })).toEqual([String(file), ids[1], ids[2]])
    expect(await collect(file, { scope: 'entity', get: s.get, entityBytes: parseEntityBytes('-50:*') })).toEqual([String(file), ids[2]])
    expect(await collect(file, { scope: 'entity', get: s.get, entityBytes: parseEntityBytes('0:-201') })).toEqual([String(file), ids[0]])
    // entirely past the end: the file node alone, as dag-scope=block
    expect(await collect(file, { scope: 'entity', get: s.get, entityBytes: parseEntityBytes('900:*') })).toEqual([String(file)])
    expect(() => parseEntityBytes('5:2')).toThrow(HttpRequestError)
    expect(() => parseEntityBytes('a:b')).toThrow(/entity-bytes=a:b/)
  })

  it('dag-scope=all follows dag-cbor and dag-pb links depth first, each block once, identity CIDs never sent', async () => {
    const s = store()
    const a = await s.put(raw.code, new Uint8Array([1]))
    const b = await s.put(raw.code, new Uint8Array([2]))
    const inline = CID.createV1(raw.code, identity.digest(new Uint8Array([3])))
    const file = await s.put(dagPb.code, fileNode([1, 1], [a, b]))
    const root = await s.put(dagCbor.code, dagCbor.encode({ x: [file, { y: a }], z: inline, w: b }))
    // dag-cbor sorts map keys (w, x, z): b, then the file and its leaf a (its b already sent)
    expect(await collect(root, { scope: 'all', get: s.get })).toEqual([String(root), String(b), String(file), String(a)])
    expect(await collect(root, { scope: 'block', get: s.get })).toEqual([String(root)])
    // a dag-cbor root is its own entity
    expect(await collect(root, { scope: 'entity', get: s.get })).toEqual([String(root)])
  })

  it('refuses a file node whose block sizes do not match its links, a file tree nested too deep, and codecs it cannot walk', async () => {
    const s = store()
    const leaf = await s.put(raw.code, new Uint8Array(10))
    const lying = await s.put(dagPb.code, fileNode([10, 10], [leaf]))
    await expect(collect(lying, { scope: 'entity', get: s.get })).rejects.toMatchObject({ status: 502 })
    let deep = await s.put(dagPb.code, fileNode([10], [leaf]))
    for (let i = 0; i < 40; i++) deep = await s.put(dagPb.code, fileNode([10], [deep]))
    await expect(collect(deep, { scope: 'entity', get: s.get })).rejects.toMatchObject({ status: 502, message: expect.stringMatching(/nests more than 32/) })
    const json = await s.put(0x0129, new TextEncoder().encode('{}'))
    await expect(collect(json, { scope: 'all', get: s.get })).rejects.toMatchObject({ status: 501 })
    expect(await collect(json, { scope: 'block', get: s.get })).toEqual([String(json)])
  })
})
