import * as dagCbor from '@ipld/dag-cbor'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { PublishedItemList } from '../../src/publish/item-list.js'
import { publish, type PublishedItem } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { compareNames } from '../../src/chunker/index.js'
import { readRoot } from '../../src/level/roots.js'
import { buildDatasetDirectories } from '../../src/publish/dataset-dirs.js'
import { CountingSource } from '../helpers/counting-source.js'
import { tempDir } from '../helpers/tmp.js'

function item (i: number): PublishedItem {
  const levels = Array.from({ length: 1 + (i % 6) }, (_, k) => ({ level: k, width: 8 << k, height: 5 << k, bytes: 1000 * 4 ** k + i * 0.5 + 2 ** 33 }))
  const out: PublishedItem = {
    path: `/data/f${i}.png`,
    name: `f${i}.png`,
    kind: i % 4 === 0 ? 'volume' : 'image',
    // CIDs of other lengths and codecs too (v0 is 34 bytes)
    root: i % 9 === 0 ? CID.createV0(sha256.digest(new Uint8Array([i])) as any) : CID.createV1(i % 2 === 0 ? dagCbor.code : raw.code, sha256.digest(new Uint8Array([i, 1])) as any),
    images: i % 4 === 0 ? 10 + i : 1,
    levels
  }
  if (i % 4 === 0) out.files = i % 8 === 0 ? 0 : i
  if (i % 5 === 0) out.valueMapping = { slope: 0.5, intercept: -i, dtype: 'float32', maxAbsError: i / 7 }
  if (i % 3 === 0) out.lossySource = true
  return out
}

describe('PublishedItemList', () => {
  it('gives back every field of every item, in unit order, items of one unit as pushed', () => {
    const list = new PublishedItemList()
    const units = [3, 1, 2, 1, 0, 3, 2, 2, 0, 1]
    const pushed = units.map((u, i) => ({ i, u, it: item(i) }))
    for (const p of pushed) list.push(p.it, p.u)
    const expected = [...pushed].sort((a, b) => a.u - b.u || a.i - b.i).map(p => p.it)
    expect(list.length).toBe(10)
    expect([...list]).toEqual(expected)
    expect(list.at(0).root.equals(expected[0].root)).toBe(true)
    expect(Array.from({ length: 10 }, (_, k) => [list.name(k), list.path(k), list.kind(k), list.images(k), list.levelCount(k)]))
      .toEqual(expected.map(e => [e.name, e.path, e.kind, e.images, e.levels.length]))
  })

  it('removed items are not read; pushing after the order is fixed is refused', () => {
    const list = new PublishedItemList()
    for (let i = 0; i < 6; i++) list.push(item(i), i)
    expect(list.pushed(2)).toEqual({ name: 'f2.png', path: '/data/f2.png' })
    list.remove(2)
    list.remove(5)
    expect(list.length).toBe(4)
    list.seal()
    expect([...list].map(x => x.name)).toEqual(['f0.png', 'f1.png', 'f3.png', 'f4.png'])
    expect(list.size).toBe(6)
    expect(() => list.push(item(7))).toThrow(/sealed/)
  })

  it('holds 20,000 items in typed arrays that grow by doubling', () => {
    const list = new PublishedItemList()
    for (let i = 0; i < 20_000; i++) list.push(item(i), 20_000 - i)
    expect(list.length).toBe(20_000)
    expect(list.at(0)).toEqual(item(19_999))
    expect(list.at(19_999)).toEqual(item(0))
    expect(list.at(12_345)).toEqual(item(20_000 - 1 - 12_345))
  })

  it('refuses levels not listed 0, 1, ...', () => {
    const list = new PublishedItemList()
    expect(() => list.push({ ...item(3), levels: [{ level: 1, width: 1, height: 1, bytes: 1 }] })).toThrow(/level 1 listed at position 0/)
    list.push(item(4))
    expect([...list]).toEqual([item(4)])
  })
})

describe('publish with keepItems: false', () => {
  it('returns no item objects, the same items in its list, and the same dataset', async () => {
    const { dir, cleanup } = await tempDir('mist-items-')
    try {
      for (const [i, name] of ['b/2.png', 'a/1.png', 'b/1.png', 'a/0.png', 'c.png'].entries()) {
        await mkdir(join(dir, 'in', name, '..'), { recursive: true })
        await writeFile(join(dir, 'in', name), encodePng(synthesizeImage(130 + i, 100, 12, false, 1, i + 1)))
      }
      await writeFile(join(dir, 'in', 'a', 'bad.png'), 'not a png')
      const run = async (keepItems: boolean): Promise<Awaited<ReturnType<typeof publish>>> => {
        const repo = await Repo.open({ path: join(dir, `repo-${String(keepItems)}`), create: true })
        try { return await publish([join(dir, 'in')], { repo, keepItems }) } finally { await repo.close() }
      }
      const kept = await run(true)
      const packed = await run(false)
      expect(kept.items.map(i => i.name)).toEqual(['a/0.png', 'a/1.png', 'b/1.png', 'b/2.png', 'c.png'])
      expect([...kept.list]).toEqual(kept.items)
      expect(packed.items).toEqual([])
      expect([...packed.list]).toEqual(kept.items)
      expect(packed.root?.equals(kept.root!)).toBe(true)
      expect(packed.directories?.dirs.map(String)).toEqual(kept.directories?.dirs.map(String))
      expect(packed.failures.map(f => f.path)).toEqual([join(dir, 'in', 'a', 'bad.png')])
      // the level files publish kept are the roots' own, and give the directories that reading the roots back gives
      const repo = await Repo.open({ path: join(dir, 'repo-false') })
      try {
        for (const item of packed.list) {
          const top = await readRoot(repo, item.root)
          if (top.kind !== 'image') throw new Error('not an image')
          expect(item.levelFiles?.map(f => f.cid.toString())).toEqual(top.root.levels.map(l => l.file.toString()))
        }
        const sorted = [...packed.list].sort((a, b) => compareNames(a.name, b.name))
        const depth = Math.max(...sorted.map(i => i.levels.length))
        expect(depth).toBe(3)
        const counting = new CountingSource(repo)
        const reread = await buildDatasetDirectories(counting, sorted.map(i => ({ name: i.name, root: i.root, kind: i.kind })), depth, { put: async () => {} })
        expect(counting.reads).toHaveLength(5)
        counting.reset()
        const fromFiles = await buildDatasetDirectories(counting, sorted, depth, { put: async () => {} })
        expect(counting.reads).toHaveLength(0)
        expect(fromFiles.dirs.map(String)).toEqual(reread.dirs.map(String))
        expect(packed.directories?.dirs.map(String)).toEqual(reread.dirs.map(String))
      } finally {
        await repo.close()
      }
    } finally {
      await cleanup()
    }
  })
})
