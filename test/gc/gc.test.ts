/**
 * unpin and gc (issue 17, item 1) with the real CLI and real `serve` processes: gc frees exactly
 * the blocks only the unpinned dataset needed; a partial mirror keeps exactly its levels; a gc
 * beside a concurrent publish through a running serve loses nothing; a gc killed -9 in the middle
 * of its sweep is finished by a rerun and every remaining pin verifies.
 */
import { readdir, stat, writeFile, mkdir, copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { walkLevel } from '../../src/level/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { storedBlocks, storeKind } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

const KILL_HOOK = fileURLToPath(new URL('../helpers/gc-kill-hook.mjs', import.meta.url))
const KILL_HOOK_LMDB = fileURLToPath(new URL('../helpers/gc-kill-hook-lmdb.mjs', import.meta.url))
let dir: string
let cleanup: () => Promise<void>
const serves: ServeProc[] = []

const key = (mh: Uint8Array): string => Buffer.from(mh).toString('hex')

/** Every block a selection of a root needs (level files included), by multihash, with its size. */
async function needed (repoPath: string, root: string, level: number | 'full' = 'full'): Promise<Map<string, number>> {
  const repo = await Repo.open({ path: repoPath })
  const out = new Map<string, number>()
  try {
    await walkLevel(repo, CID.parse(root), async b => { out.set(key(b.cid.multihash.bytes), (await repo.get(b.cid)).byteLength) }, { level, levelFiles: true })
  } finally {
    await repo.close()
  }
  return out
}

/** The blocks the repo holds (by multihash), and any block file a gc of an fs repo set aside. */
async function onDisk (repoPath: string): Promise<{ blocks: Set<string>, aside: string[] }> {
  const blocks = new Set((await storedBlocks(repoPath)).keys())
  const aside: string[] = []
  const base = join(repoPath, 'blocks')
  for (const shard of await readdir(base)) {
    if (!(await stat(join(base, shard))).isDirectory()) continue
    for (const name of await readdir(join(base, shard))) if (name.endsWith('.data.gc')) aside.push(name)
  }
  return { blocks, aside }
}

const minus = (a: Map<string, number>, b: Map<string, number>): Map<string, number> => new Map([...a].filter(([k]) => !b.has(k)))
const sum = (m: Map<string, number>): number => [...m.values()].reduce((s, x) => s + x, 0)

async function ok (args: string[], env?: Record<string, string>): Promise<any> {
  const res = await cli([...args, '--json'], { env })
  expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0)
  return JSON.parse(res.stdout)
}

async function images (into: string, seeds: number[], size = 256): Promise<void> {
  await mkdir(into, { recursive: true })
  for (const s of seeds) await writeFile(join(into, `img${s}.png`), encodePng(synthesizeImage(size, size, 12, false, 1, s)))
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-gc-'))
}, 180_000)

afterAll(async () => {
  await Promise.all(serves.map(async s => s.stop().catch(() => {})))
  await cleanup?.()
})

describe('unpin and gc', () => {
  it('after unpin, gc frees exactly the blocks only that dataset needed; the other dataset stays whole', async () => {
    const repo = join(dir, 'one')
    await images(join(dir, 'A'), [1, 2, 3])
    await images(join(dir, 'B'), [3, 4]) // img3.png is in both
    const a = (await ok(['publish', join(dir, 'A'), '--repo', repo])).root
    const b = (await ok(['publish', join(dir, 'B'), '--repo', repo])).root
    const onlyA = minus(await needed(repo, a), await needed(repo, b))
    expect(onlyA.size).toBeGreaterThan(0)
    expect((await ok(['ls', '--repo', repo])).map((h: any) => h.root).sort()).toEqual([a, b].sort())

    const unpinned = await ok(['unpin', a, '--repo', repo])
    expect(unpinned).toMatchObject({ root: a, pin: true })
    const again = await cli(['unpin', a, '--repo', repo])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/neither pinned nor mirrored/)

    const gc = await ok(['gc', '--repo', repo])
    expect(gc.freedBlocks).toBe(onlyA.size)
    expect(gc.freedBytes).toBe(sum(onlyA))
    const { blocks } = await onDisk(repo)
    expect([...blocks].sort()).toEqual([...(await needed(repo, b)).keys()].sort())
    expect((await ok(['verify', b, '--repo', repo])).ok).toBe(true)
    const ls = await ok(['ls', '--repo', repo])
    expect(ls).toHaveLength(1)
    expect(ls[0]).toMatchObject({ root: b, pinned: true, kind: 'dataset', entries: 2, levels: 'full' })
    // nothing left to free
    expect((await ok(['gc', '--repo', repo])).freedBlocks).toBe(0)
  }, 180_000)

  it('a partial mirror keeps exactly the blocks of its levels', async () => {
    const repo = join(dir, 'partial')
    await images(join(dir, 'C'), [5, 6], 512)
    const c = (await ok(['publish', join(dir, 'C'), '--repo', repo])).root
    await ok(['unpin', c, '--repo', repo])
    // every block is held: mirror only records levels 0..1 (a mirror from peers records the same, test/names)
    const partial = await ok(['mirror', c, '--level', '1', '--repo', repo])
    expect(partial.freshBlocks).toBe(0)
    const full = await needed(repo, c)
    const level1 = await needed(repo, c, 1)
    expect(level1.size).toBeLessThan(full.size)

    const gc = await ok(['gc', '--repo', repo])
    expect(gc.freedBlocks).toBe(full.size - level1.size)
    expect(gc.freedBytes).toBe(sum(minus(full, level1)))
    expect([...(await onDisk(repo)).blocks].sort()).toEqual([...level1.keys()].sort())
    expect((await ok(['verify', c, '--level', '1', '--repo', repo])).ok).toBe(true)
    const ls = await ok(['ls', '--repo', repo])
    expect(ls).toEqual([expect.objectContaining({ root: c, pinned: false, kind: 'dataset', levels: 1, levelCount: 4 })])
  }, 180_000)

  it('gc through a running serve, beside a concurrent publish of blocks it would otherwise free, loses nothing', async () => {
    const { repo } = await initRepo(dir, 'busy')
    await images(join(dir, 'X'), [11, 12, 13, 14, 15, 16], 384)
    const x = (await ok(['publish', join(dir, 'X'), '--repo', repo])).root
    await ok(['unpin', x, '--repo', repo]) // every block of X is now garbage, and still on disk
    await mkdir(join(dir, 'X2'))
    for (const s of [11, 12, 13, 14, 15, 16]) await copyFile(join(dir, 'X', `img${s}.png`), join(dir, 'X2', `img${s}.png`))
    // new images large enough that the publish (PNGs decoded and encoded on the codec workers) lasts
    // several gc runs: the overlap is what this test is about (with 10 of them, a loaded machine let
    // the publish finish within the first two gc processes' start-up)
    await images(join(dir, 'X2'), Array.from({ length: 20 }, (_, i) => 17 + i), 1024)
    await startServe(serves, repo)

    // the publish reuses X's blocks (already on disk, unkept) while gc runs again and again beside it
    let done = false
    const publishing = cli(['publish', join(dir, 'X2'), '--repo', repo, '--json']).finally(() => { done = true })
    const gcs: any[] = []
    while (!done || gcs.length < 2) gcs.push(await ok(['gc', '--repo', repo]))
    const pub = await publishing
    expect(pub.code, pub.stderr).toBe(0)
    const x2 = JSON.parse(pub.stdout).root
    expect(gcs.some(g => g.pendingWriters > 0), `no gc of ${gcs.length} ran beside the publish`).toBe(true)
    expect((await ok(['verify', x2, '--repo', repo])).ok, 'verify after the concurrent gc runs').toBe(true)
    // once the publish is recorded, gc frees X's leftovers and keeps X2 whole
    await ok(['gc', '--repo', repo])
    expect((await ok(['verify', x2, '--repo', repo])).ok).toBe(true)
  }, 180_000)

  it('a gc killed -9 in the middle of its sweep is finished by a rerun; every remaining pin verifies (a file per block)', async () => {
    const repo = join(dir, 'crash')
    await images(join(dir, 'Y'), [21, 22])
    await images(join(dir, 'Z'), [22, 23, 24])
    const y = (await ok(['publish', join(dir, 'Y'), '--repo', repo], { MIST_P2P_BLOCKSTORE: 'fs' })).root
    const z = (await ok(['publish', join(dir, 'Z'), '--repo', repo])).root
    expect(await storeKind(repo)).toBe('fs')
    const onlyZ = minus(await needed(repo, z), await needed(repo, y))
    await ok(['unpin', z, '--repo', repo])

    let freed = 0
    for (const at of [1, 3]) {
      const killed = await cli(['gc', '--repo', repo], { env: { NODE_OPTIONS: `--import=${KILL_HOOK}`, MIST_TEST_GC_KILL_AT: String(at) } })
      expect(killed.code).not.toBe(0) // SIGKILL
      expect((await onDisk(repo)).aside).toHaveLength(1) // killed between the set-aside and the unlink
      freed += at - 1
    }
    const rerun = await ok(['gc', '--repo', repo])
    expect(rerun.resumed).toBe(true)
    expect(rerun.restoredBlocks).toBe(1)
    expect(freed + rerun.freedBlocks).toBe(onlyZ.size)
    const after = await onDisk(repo)
    expect(after.aside).toEqual([])
    expect([...after.blocks].sort()).toEqual([...(await needed(repo, y)).keys()].sort())
    expect((await ok(['verify', y, '--repo', repo])).ok).toBe(true)
  }, 180_000)

  it('a gc of an LMDB repo killed -9 between two removals is finished by a rerun; every remaining pin verifies', async () => {
    const repo = join(dir, 'crash-lmdb')
    await images(join(dir, 'Y2'), [31, 32])
    await images(join(dir, 'Z2'), [32, 33, 34])
    const y = (await ok(['publish', join(dir, 'Y2'), '--repo', repo], { MIST_P2P_BLOCKSTORE: 'lmdb' })).root
    const z = (await ok(['publish', join(dir, 'Z2'), '--repo', repo])).root
    expect(await storeKind(repo)).toBe('lmdb')
    const onlyZ = minus(await needed(repo, z), await needed(repo, y))
    await ok(['unpin', z, '--repo', repo])
    const before = (await onDisk(repo)).blocks.size

    for (const at of [1, 3]) {
      const killed = await cli(['gc', '--repo', repo], { env: { NODE_OPTIONS: `--import=${KILL_HOOK_LMDB}`, MIST_TEST_GC_KILL_AT: String(at) } })
      expect(killed.code).not.toBe(0) // SIGKILL
    }
    // each committed removal stayed removed (1, then 3 more), nothing else was lost
    const killedAfter = (await onDisk(repo)).blocks
    expect(killedAfter.size).toBe(before - 4)
    const rerun = await ok(['gc', '--repo', repo])
    expect(rerun.resumed).toBe(true)
    expect(4 + rerun.freedBlocks).toBe(onlyZ.size)
    expect([...(await onDisk(repo)).blocks].sort()).toEqual([...(await needed(repo, y)).keys()].sort())
    expect((await ok(['verify', y, '--repo', repo])).ok).toBe(true)
  }, 180_000)
})
