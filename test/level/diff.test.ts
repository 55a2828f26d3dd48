/**
 * Versions (issue 17, item 3): a new version that adds 1 % of files writes about 1 % new blocks;
 * `diff` lists entries added, removed and changed and the bytes a mirror of each level fetches
 * (checked against the difference of the two versions' complete block sets), and reads only index
 * nodes that differ (counted on large indexes built in memory).
 */
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDatasetDag, decodeDatasetRoot, diffDatasets, type EntryChange } from '../../src/chunker/index.js'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { walkLevel } from '../../src/level/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { storedBlocks } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-diff-')) })
afterAll(async () => { await cleanup?.() })

async function ok (args: string[]): Promise<any> {
  const res = await cli([...args, '--json'])
  expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0)
  return JSON.parse(res.stdout)
}

async function blockFiles (repo: string): Promise<number> {
  return (await storedBlocks(repo)).size
}

/** Every block of a root at a level (level files included), by CID, with its size. */
async function levelSet (repoPath: string, root: string, level: number | 'full'): Promise<Map<string, number>> {
  const repo = await Repo.open({ path: repoPath })
  const out = new Map<string, number>()
  try {
    await walkLevel(repo, CID.parse(root), async b => { out.set(b.cid.toString(), (await repo.get(b.cid)).byteLength) }, { level, levelFiles: true })
  } finally {
    await repo.close()
  }
  return out
}

const png = (seed: number): Uint8Array => encodePng(synthesizeImage(128, 128, 12, false, 1, seed))

describe('versions of a dataset', () => {
  it('a version with 1 % new files writes about 1 % new blocks; diff lists the changes and the exact bytes per level a mirror fetches', async () => {
    const repo = join(dir, 'repo')
    const v1 = join(dir, 'v1')
    await mkdir(v1)
    for (let i = 0; i < 100; i++) await writeFile(join(v1, `case${String(i).padStart(3, '0')}.png`), png(1000 + i))
    const r1 = (await ok(['publish', v1, '--repo', repo])).root
    const before = await blockFiles(repo)

    // v2: the same 100 files and one new one
    const v2 = join(dir, 'v2')
    await mkdir(v2)
    for (const f of await readdir(v1)) await copyFile(join(v1, f), join(v2, f))
    await writeFile(join(v2, 'case100.png'), png(2000))
    const r2 = (await ok(['publish', v2, '--repo', repo])).root
    const written = await blockFiles(repo) - before
    const total = (await levelSet(repo, r2, 'full')).size
    // the new file's blocks and the new dataset root: 1 of 101 files
    const ratio = written / total
    console.log(`v2 (101 files, 1 new): ${written} new blocks of ${total} (${(100 * ratio).toFixed(2)} %)`)
    expect(ratio).toBeLessThan(0.02)
    // exactly the blocks v2 needs that v1 did not have: the new file's, the new root's and the level directories that list it
    const [s1, s2] = [await levelSet(repo, r1, 'full'), await levelSet(repo, r2, 'full')]
    expect(written).toBe([...s2.keys()].filter(k => !s1.has(k)).length)

    // v3: 2 removed, 3 changed (new pixels, same names), 2 added
    const v3 = join(dir, 'v3')
    await mkdir(v3)
    for (const f of await readdir(v1)) if (f !== 'case010.png' && f !== 'case050.png') await copyFile(join(v1, f), join(v3, f))
    for (const i of [20, 21, 99]) await writeFile(join(v3, `case${String(i).padStart(3, '0')}.png`), png(3000 + i))
    await writeFile(join(v3, 'case050a.png'), png(4000))
    await writeFile(join(v3, 'extra.png'), png(4001))
    const r3 = (await ok(['publish', v3, '--repo', repo])).root
    const d = await ok(['diff', r1, r3, '--repo', repo])
    expect(d.added.map((e: any) => e.name)).toEqual(['case050a.png', 'extra.png'])
    expect(d.removed.map((e: any) => e.name)).toEqual(['case010.png', 'case050.png'])
    expect(d.changed.map((e: any) => e.name)).toEqual(['case020.png', 'case021.png', 'case099.png'])
    expect(d.indexReads).toEqual({ old: 0, new: 0 }) // 100 entries: the index is inlined in the root
    const levels = (await levelSet(repo, r3, 'full')).size > 0 ? d.levels.length : 0
    expect(levels).toBe(2)
    for (let k = 0; k < levels; k++) {
      const now = await levelSet(repo, r3, k)
      const had = await levelSet(repo, r1, k)
      const fetch = [...now].filter(([c]) => !had.has(c))
      expect(d.levels[k], `level ${k}`).toEqual({ level: k, blocks: fetch.length, bytes: fetch.reduce((s, [, n]) => s + n, 0) })
    }
    const text = await cli(['diff', r1, r3, '--repo', repo])
    expect(text.stdout).toMatch(/^\+ case050a\.png$/m)
    expect(text.stdout).toMatch(/^~ case020\.png$/m)
    expect(text.stdout).toMatch(/2 added, 2 removed, 3 changed/)
  }, 180_000)
})

describe('diff of large indexes reads only the nodes that differ', () => {
  const fake = async (s: string): Promise<CID> => CID.createV1(0x71, await sha256.digest(new TextEncoder().encode(s)))
  async function build (names: Map<string, string>): Promise<{ root: any, blocks: Map<string, Uint8Array> }> {
    const entries = await Promise.all([...names].map(async ([name, content]) => ({ name, root: await fake(content), kind: 'image' as const, levels: [{ level: 0, width: 1, height: 1, bytes: 1 }] })))
    const dag = await buildDatasetDag(entries)
    const blocks = new Map(dag.blocks.map(b => [b.cid.toString(), b.bytes]))
    return { root: decodeDatasetRoot(blocks.get(dag.root.toString())!, dag.root), blocks }
  }
  async function run (a: Map<string, string>, b: Map<string, string>): Promise<{ changes: EntryChange[], reads: number }> {
    const [x, y] = await Promise.all([build(a), build(b)])
    let reads = 0
    const get = (m: Map<string, Uint8Array>) => async (c: CID) => { reads++; return m.get(c.toString())! }
    const changes: EntryChange[] = []
    for await (const c of diffDatasets(x.root, y.root, get(x.blocks), get(y.blocks))) changes.push(c)
    return { changes, reads }
  }
  const base = (n: number): Map<string, string> => new Map(Array.from({ length: n }, (_, i) => [`e${String(i).padStart(6, '0')}`, `v1-${i}`]))

  it('an entry changed in place: one leaf node read on each side (of 4 per side)', async () => {
    const a = base(2000)
    const b = new Map(a)
    b.set('e001000', 'v2')
    const { changes, reads } = await run(a, b)
    expect(changes.map(c => [c.change, c.entry.name])).toEqual([['changed', 'e001000']])
    expect(reads).toBe(2)
  })

  it('20,000 entries (40 leaf nodes per side): two entries changed in different leaves cost 2 nodes per side', async () => {
    const a = base(20_000)
    const b = new Map(a)
    b.set('e001234', 'v2')
    b.set('e017000', 'v2')
    const { changes, reads } = await run(a, b)
    expect(changes.map(c => [c.change, c.entry.name])).toEqual([['changed', 'e001234'], ['changed', 'e017000']])
    expect(reads).toBe(4)
  })

  it('random edits: the same changes as comparing the full entry lists', async () => {
    let seed = 7
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
    for (let round = 0; round < 5; round++) {
      const a = base(1500 + Math.floor(rnd() * 1500))
      const b = new Map(a)
      for (let i = 0; i < 40; i++) {
        const name = `e${String(Math.floor(rnd() * 3000)).padStart(6, '0')}`
        const op = rnd()
        if (op < 0.33) b.delete(name)
        else if (op < 0.66) b.set(name, `v2-${i}`)
        else b.set(`${name}x`, `new-${i}`)
      }
      const expected: string[] = []
      for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
        if (!b.has(name)) expected.push(`removed ${name}`)
        else if (!a.has(name)) expected.push(`added ${name}`)
        else if (a.get(name) !== b.get(name)) expected.push(`changed ${name}`)
      }
      const { changes } = await run(a, b)
      expect(changes.map(c => `${c.change} ${c.entry.name}`)).toEqual(expected)
    }
  })
})
