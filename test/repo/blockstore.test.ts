/**
 * MistBlockstore is blockstore-fs with a leaner put/get: same files in the same places, so a repo
 * written by either is read by the other; writes stay atomic and concurrent writes of one block agree.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { MistBlockstore } from '../../src/repo/blockstore.js'
import { tempDir } from '../helpers/tmp.js'

async function block (i: number): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new Uint8Array(1000 + i).fill(i & 0xff)
  return { cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes }
}

async function all (it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const c of it) chunks.push(c)
  return Buffer.concat(chunks)
}

describe('MistBlockstore', () => {
  it('writes the files blockstore-fs reads, and reads the files it writes', async () => {
    const { dir, cleanup } = await tempDir('mist-bs-')
    try {
      const blocks = await Promise.all(Array.from({ length: 50 }, async (_, i) => block(i)))
      const mine = new MistBlockstore(join(dir, 'a'))
      await mine.open()
      await Promise.all(blocks.slice(0, 25).map(async b => mine.put(b.cid, b.bytes)))
      const theirs = new FsBlockstore(join(dir, 'a'))
      await theirs.open()
      await Promise.all(blocks.slice(25).map(async b => theirs.put(b.cid, b.bytes)))
      for (const b of blocks) {
        expect(Buffer.compare(await all(theirs.get(b.cid)), b.bytes)).toBe(0)
        expect(Buffer.compare(await all(mine.get(b.cid)), b.bytes)).toBe(0)
        expect(await mine.has(b.cid)).toBe(true)
      }
      let listed = 0
      for await (const _ of mine.getAll()) listed++
      expect(listed).toBe(50)
    } finally { await cleanup() }
  })

  it('concurrent puts of one block agree and leave no temp file; a missing block is a NotFoundError', async () => {
    const { dir, cleanup } = await tempDir('mist-bs-')
    try {
      const b = await block(7)
      const mine = new MistBlockstore(join(dir, 'b'))
      await mine.open()
      await Promise.all(Array.from({ length: 20 }, async () => mine.put(b.cid, b.bytes)))
      expect(Buffer.compare(await all(mine.get(b.cid)), b.bytes)).toBe(0)
      const files = (await readdir(join(dir, 'b'), { recursive: true })).filter(f => !f.endsWith('SHARDING') && f.includes('.'))
      expect(files.filter(f => f.endsWith('.tmp'))).toEqual([])
      expect(files.filter(f => f.endsWith('.data')).length).toBe(1)
      const missing = await block(8)
      await expect(all(mine.get(missing.cid))).rejects.toMatchObject({ name: 'NotFoundError' })
    } finally { await cleanup() }
  })
})
