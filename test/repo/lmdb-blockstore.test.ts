/**
 * The LMDB blockstore (issue 12, item 5) and how a repo chooses its blockstore: exact bytes in and
 * out whatever the caller does with its buffer afterwards, lookups by multihash, the last-used
 * table gc relies on, and repos made before LMDB (no "blockstore" in config.json) still opening
 * as a file per block.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repo } from '../../src/repo/index.js'
import { LmdbBlockstore } from '../../src/repo/lmdb-blockstore.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-lmdb-')) })
afterAll(async () => { await cleanup?.() })

async function block (seed: number, size = 3000): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7) & 0xff
  return { cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes }
}

const read = async (s: LmdbBlockstore, cid: CID): Promise<Buffer> => {
  const parts: Uint8Array[] = []
  for await (const c of s.get(cid)) parts.push(c)
  return Buffer.concat(parts)
}

describe('LmdbBlockstore', () => {
  it('stores the bytes given even if the caller reuses its buffer at once, and finds them by multihash after a reopen', async () => {
    const s = new LmdbBlockstore(join(dir, 'a'))
    await s.open()
    const blocks = await Promise.all([1, 2, 3].map(async i => block(i)))
    const originals = blocks.map(b => Buffer.from(b.bytes))
    const puts = blocks.map(async b => s.put(b.cid, b.bytes))
    for (const b of blocks) b.bytes.fill(0) // reused before the batch commits
    await Promise.all(puts)
    await s.close()

    const again = new LmdbBlockstore(join(dir, 'a'))
    await again.open()
    try {
      for (const [i, b] of blocks.entries()) {
        expect(await again.has(b.cid)).toBe(true)
        expect(Buffer.compare(await read(again, b.cid), originals[i])).toBe(0)
        // the same multihash under another codec is the same block
        expect(await again.has(CID.createV1(dagCbor.code, b.cid.multihash))).toBe(true)
      }
      const listed = []
      for await (const { cid } of again.getAll()) listed.push(cid.toString())
      expect(listed.sort()).toEqual(blocks.map(b => b.cid.toString()).sort())
      await again.delete(blocks[0].cid)
      expect(await again.has(blocks[0].cid)).toBe(false)
      await expect(read(again, blocks[0].cid)).rejects.toMatchObject({ name: 'NotFoundError' })
    } finally {
      await again.close()
    }
  })

  it('stores a value given in chunks (sync or async) as its joined bytes; countReadOnly counts beside the open writer', async () => {
    const s = new LmdbBlockstore(join(dir, 'chunks'))
    await s.open()
    try {
      expect(await LmdbBlockstore.countReadOnly(join(dir, 'chunks'))).toBe(0)
      const [a, b] = await Promise.all([4, 5].map(async i => block(i, 5000)))
      await s.put(a.cid, [a.bytes.subarray(0, 1000), a.bytes.subarray(1000)])
      await s.put(b.cid, (async function * () { yield b.bytes.subarray(0, 7); yield b.bytes.subarray(7) })())
      expect(Buffer.compare(await read(s, a.cid), Buffer.from(a.bytes))).toBe(0)
      expect(Buffer.compare(await read(s, b.cid), Buffer.from(b.bytes))).toBe(0)
      expect(await LmdbBlockstore.countReadOnly(join(dir, 'chunks'))).toBe(2)
    } finally {
      await s.close()
    }
  })

  it('lists keys in pages that together are every block exactly once', async () => {
    const s = new LmdbBlockstore(join(dir, 'pages'))
    await s.open()
    try {
      const blocks = await Promise.all(Array.from({ length: 25 }, async (_, i) => block(100 + i, 50)))
      await Promise.all(blocks.map(async b => s.put(b.cid, b.bytes)))
      const seen: string[] = []
      let pages = 0
      for await (const page of s.keyPages(4)) { pages++; expect(page.length).toBeLessThanOrEqual(4); for (const k of page) seen.push(Buffer.from(k).toString('hex')) }
      expect(pages).toBe(7)
      expect(new Set(seen).size).toBe(25)
      expect(seen.sort()).toEqual(blocks.map(b => Buffer.from(b.cid.multihash.bytes).toString('hex')).sort())
    } finally {
      await s.close()
    }
  })

  it('removes only blocks unused since the cutoff; a touch queued before the removal spares its block', async () => {
    const s = new LmdbBlockstore(join(dir, 'gc'))
    await s.open()
    try {
      const [old, touched, absent] = await Promise.all([block(10), block(11), block(12)])
      await s.put(old.cid, old.bytes)
      await s.put(touched.cid, touched.bytes)
      await new Promise(resolve => setTimeout(resolve, 5))
      const cutoff = performance.timeOrigin + performance.now()
      expect(await s.touch(absent.cid)).toBe(false)
      const touch = s.touch(touched.cid) // queued first, committed in the same write order
      const removal = s.removeUnused([old.cid.multihash.bytes, touched.cid.multihash.bytes, absent.cid.multihash.bytes], cutoff)
      expect(await touch).toBe(true)
      expect(await removal).toEqual({ removed: 1, bytes: old.bytes.byteLength, recent: 1 })
      expect(await s.has(old.cid)).toBe(false)
      expect(await s.has(touched.cid)).toBe(true)
    } finally {
      await s.close()
    }
  })
})

describe('a repo\'s blockstore', () => {
  it('a new repo records "lmdb"; MIST_P2P_BLOCKSTORE=fs or the option makes a file-per-block repo', async () => {
    const a = await Repo.open({ path: join(dir, 'new'), create: true })
    expect(a.blockstore.kind).toBe('lmdb')
    await a.close()
    expect(JSON.parse(await readFile(join(dir, 'new', 'config.json'), 'utf8'))).toMatchObject({ version: 1, blockstore: 'lmdb' })
    const b = await Repo.open({ path: join(dir, 'fs'), create: true, blockstore: 'fs' })
    expect(b.blockstore.kind).toBe('fs')
    await b.close()
    const before = process.env.MIST_P2P_BLOCKSTORE
    process.env.MIST_P2P_BLOCKSTORE = 'rocks'
    try {
      await expect(Repo.open({ path: join(dir, 'bad-env'), create: true })).rejects.toMatchObject({ name: 'RepoError', message: expect.stringMatching(/blockstore "rocks".*MIST_P2P_BLOCKSTORE/) })
    } finally {
      if (before == null) delete process.env.MIST_P2P_BLOCKSTORE
      else process.env.MIST_P2P_BLOCKSTORE = before
    }
  })

  it('a repo made before LMDB (no "blockstore" in config.json) opens as a file per block, with its blocks', async () => {
    const path = join(dir, 'old')
    const b = await block(40)
    const r = await Repo.open({ path, create: true, blockstore: 'fs' })
    await r.putBlocks([b])
    await r.close()
    await writeFile(join(path, 'config.json'), JSON.stringify({ version: 1 }) + '\n') // what older versions wrote
    const again = await Repo.open({ path })
    try {
      expect(again.blockstore.kind).toBe('fs')
      expect(Buffer.compare(Buffer.from(await again.get(b.cid)), Buffer.from(b.bytes))).toBe(0)
    } finally {
      await again.close()
    }
  })

  it('a repo naming a blockstore this version does not know fails clearly', async () => {
    const path = join(dir, 'future')
    await (await Repo.open({ path, create: true })).close()
    await writeFile(join(path, 'config.json'), JSON.stringify({ version: 1, blockstore: 'rocksdb' }) + '\n')
    await expect(Repo.open({ path })).rejects.toMatchObject({ name: 'RepoError', message: expect.stringMatching(/"blockstore" is "rocksdb"/) })
  })
})
