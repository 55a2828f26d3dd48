/**
 * Issue 16, the get side: what a dataset, image or volume root crafted by a member with the
 * swarm key (or an honest but unlucky publisher) can make `get` write, allocate or walk.
 * Every root here is built with the project's own DAG builders (src/chunker), then altered
 * the way a hostile publisher would, and read through an in-memory block source that counts
 * what is fetched.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildDatasetDag, buildImageDag, buildVolumeDag, decodeDatasetRoot, SLICES_PER_SHARD, type LevelSummary } from '../../src/chunker/index.js'
import { cborBlock, rawBlock } from '../../src/chunker/block.js'
import { encodeHTJ2K, synthesizeImage } from '../../src/codec/index.js'
import { MissingBlockError } from '../../src/errors.js'
import type { BlockSource } from '../../src/repo/index.js'
import { openRoot, planEntry, readRoot, walkLevel, type VolumePlan } from '../../src/level/index.js'
import { retrieve, volumeLevelSlices } from '../../src/retrieve/index.js'
import type { Block, VolumeMeta } from '../../src/types.js'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

/** Blocks in memory; every read is recorded in order (role is guessed from the CID's block). */
class MemorySource implements BlockSource {
  readonly blocks = new Map<string, Uint8Array>()
  readonly reads: string[] = []
  constructor (blocks: Block[] = []) { this.add(blocks) }
  add (blocks: Block[]): void { for (const b of blocks) this.blocks.set(b.cid.toString(), b.bytes) }
  async get (cid: CID): Promise<Uint8Array> {
    const b = this.blocks.get(cid.toString())
    if (b == null) throw new MissingBlockError(`block ${cid} is not held`)
    this.reads.push(cid.toString())
    return b
  }

  async has (cid: CID): Promise<boolean> { return this.blocks.has(cid.toString()) }
}

async function imageDag (w: number, h: number, seed: number, options: { signed?: boolean, decompositions?: number } = {}): Promise<{ root: CID, blocks: Block[], levels: LevelSummary[] }> {
  const cs = await encodeHTJ2K(synthesizeImage(w, h, 12, options.signed === true, 1, seed), { decompositions: options.decompositions ?? 2 })
  return await buildImageDag(cs, { bitsStored: 12, signed: options.signed === true, components: 1 }, { sourceFormat: 'png' })
}

function pngWidth (path: string): number {
  return readFileSync(path).readUInt32BE(16)
}

const volumeMeta = (w: number, h: number, d: number): VolumeMeta => ({ sourceFormat: 'nifti', dims: [w, h, d], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype: 'int16' } as VolumeMeta)

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups) await c(); cleanups = [] })
async function tmp (): Promise<string> {
  const t = await tempDir('mist-insiders-')
  cleanups.push(t.cleanup)
  return t.dir
}

let small: Awaited<ReturnType<typeof imageDag>>
beforeAll(async () => { small = await imageDag(24, 16, 3, { signed: true }) })

describe('1. dataset entry names never lead outside -o', () => {
  it('"...png", "..png" and "...nii.gz" are written inside the output directory; nothing beside it changes', async () => {
    const dir = await tmp()
    const out = join(dir, 'parent')
    // what the unchanged code overwrote: <out>.png (from "..png") and <dir>.png (from "...png")
    writeFileSync(join(dir, 'parent.png'), 'precious')
    const img = await imageDag(32, 20, 5)
    const vol = await buildVolumeDag(volumeMeta(24, 16, 1), [{ root: small.root, levels: small.levels }])
    const ds = await buildDatasetDag([
      { name: '...png', root: img.root, kind: 'image', levels: img.levels },
      { name: '..png', root: img.root, kind: 'image', levels: img.levels },
      { name: '...nii.gz', root: vol.root, kind: 'volume', levels: vol.levels }
    ])
    const source = new MemorySource([...img.blocks, ...small.blocks, ...vol.blocks, ...ds.blocks])
    const r = await retrieve(source, ds.root, { out })
    expect(r.failures).toEqual([])
    expect(readdirSync(dir).sort()).toEqual(['parent', 'parent.png'])
    expect(readFileSync(join(dir, 'parent.png'), 'utf8')).toBe('precious')
    expect(existsSync(`${dir}.png`)).toBe(false)
    for (const o of r.outputs) for (const p of o.paths) expect(p.startsWith(out + '/')).toBe(true)
    expect(r.outputs.flatMap(o => o.paths).map(p => p.slice(out.length + 1)).sort()).toEqual(['...nii', '...png', '..png'])
  })

  it('--format dcm: a volume named "...nii.gz" (a directory of slices named "..") is refused, named, and nothing is written outside', async () => {
    const dir = await tmp()
    const out = join(dir, 'out')
    const vol = await buildVolumeDag(volumeMeta(24, 16, 1), [{ root: small.root, levels: small.levels }])
    const ds = await buildDatasetDag([
      { name: '...nii.gz', root: vol.root, kind: 'volume', levels: vol.levels },
      { name: 'ok.nii.gz', root: vol.root, kind: 'volume', levels: vol.levels }
    ])
    const source = new MemorySource([...small.blocks, ...vol.blocks, ...ds.blocks])
    const r = await retrieve(source, ds.root, { out, format: 'dcm' })
    expect(r.failures.map(f => [f.name, f.error.name])).toEqual([['...nii.gz', 'OutputPathError']])
    expect(r.failures[0].error.message).toMatch(/"\.\." segment/)
    expect(readdirSync(dir)).toEqual(['out'])
    expect(readdirSync(out).sort()).toEqual(['manifest.jsonl', 'ok'])
    expect(readdirSync(join(out, 'ok'))).toEqual(['slice-0000.dcm'])
  })

  it('a name whose output file name is longer than file systems take fails with its reason, not a raw ENAMETOOLONG (found by the names fuzz kind)', async () => {
    const dir = await tmp()
    const out = join(dir, 'out')
    const long = 'x'.repeat(300) + '.png'
    const ds = await buildDatasetDag([
      { name: long, root: small.root, kind: 'image', levels: small.levels },
      { name: `${long}/x.png`, root: small.root, kind: 'image', levels: small.levels },
      { name: 'short.png', root: small.root, kind: 'image', levels: small.levels }
    ])
    const r = await retrieve(new MemorySource([...small.blocks, ...ds.blocks]), ds.root, { out, format: 'nii' })
    expect(r.failures.map(f => f.error.name)).toEqual(['OutputPathError', 'OutputPathError'])
    for (const f of r.failures) expect(f.error.message).toMatch(/has a segment longer than 224 UTF-8 bytes/)
    expect(readdirSync(out).sort()).toEqual(['manifest.jsonl', 'short.nii'])
  })

  it('a dataset root whose names carry bidi overrides or C1 controls is refused when it is read', async () => {
    const img = small
    for (const name of ['scan\u202Egnp.exe', 'a\u2066b.png', 'x\u0085y.png']) {
      const block = await cborBlock({ mist: 'dataset', version: 1, count: 1, levels: img.levels.map(l => ({ level: l.level, bytes: l.bytes, images: 1 })), total: img.levels[img.levels.length - 1].bytes, entries: [{ name, root: img.root, kind: 'image' }] })
      expect(() => decodeDatasetRoot(block.bytes, block.cid)).toThrow(/bidirectional-override|control character/)
      await expect(buildDatasetDag([{ name, root: img.root, kind: 'image', levels: img.levels }])).rejects.toMatchObject({ name: 'FormatError' })
    }
  })
})

describe('2. entries that map to one output file', () => {
  it('"scan", "scan.PNG" and "scan.png" (three images) give three files, deterministically named, distinct also without case', async () => {
    const dir = await tmp()
    const a = await imageDag(16, 16, 1)
    const b = await imageDag(20, 16, 2)
    const c = await imageDag(28, 16, 3)
    const ds = await buildDatasetDag([
      { name: 'scan', root: a.root, kind: 'image', levels: a.levels },
      { name: 'scan.PNG', root: b.root, kind: 'image', levels: b.levels },
      { name: 'scan.png', root: c.root, kind: 'image', levels: c.levels }
    ])
    const source = new MemorySource([...a.blocks, ...b.blocks, ...c.blocks, ...ds.blocks])
    for (const run of [1, 2]) {
      // run 2 is a rerun over the same files: identical content is kept silently
      const out = join(dir, 'out')
      const r = await retrieve(source, ds.root, { out, concurrency: 3 })
      expect(r.failures, `run ${run}`).toEqual([])
      const byName = Object.fromEntries(r.outputs.map(o => [o.name, o.paths[0].slice(out.length + 1)]))
      // "scan.png.png" would be "scan.PNG.png" on a case-insensitive file system
      expect(byName).toEqual({ scan: 'scan.png', 'scan.PNG': 'scan.PNG.png', 'scan.png': 'scan~2.png' })
      expect(pngWidth(join(out, 'scan.png'))).toBe(16)
      expect(pngWidth(join(out, 'scan.PNG.png'))).toBe(20)
      expect(pngWidth(join(out, 'scan~2.png'))).toBe(28)
      expect(readdirSync(out).sort()).toEqual(['manifest.jsonl', 'scan.PNG.png', 'scan.png', 'scan~2.png'])
    }
  })

  it('"A.png" and "a" (one file without case) get two names; an entry that needs a file as its directory is refused, naming the other', async () => {
    const dir = await tmp()
    const a = await imageDag(16, 16, 1)
    const b = await imageDag(20, 16, 2)
    const ds = await buildDatasetDag([
      { name: 'A.png', root: a.root, kind: 'image', levels: a.levels },
      { name: 'a', root: b.root, kind: 'image', levels: b.levels },
      { name: 'A.png/x.png', root: b.root, kind: 'image', levels: b.levels }
    ])
    const source = new MemorySource([...a.blocks, ...b.blocks, ...ds.blocks])
    const out = join(dir, 'out')
    const r = await retrieve(source, ds.root, { out })
    expect(r.outputs.map(o => [o.name, o.paths[0].slice(out.length + 1)])).toEqual([['A.png', 'A.png'], ['a', 'a~2.png']])
    expect(r.failures.map(f => [f.name, f.error.name])).toEqual([['A.png/x.png', 'OutputPathError']])
    expect(r.failures[0].error.message).toMatch(/would overwrite the output of entry "A.png"/)
    expect(readdirSync(out).sort()).toEqual(['A.png', 'a~2.png', 'manifest.jsonl'])
    expect(pngWidth(join(out, 'A.png'))).toBe(16)
    expect(pngWidth(join(out, 'a~2.png'))).toBe(20)
  })
})

describe('3. an image root cannot make the getter allocate more than its pixels justify', () => {
  async function craftedImageRoot (leaves: Array<{ cid: CID, size: number }>, width: number, height: number): Promise<Block> {
    // a consistent root in every other respect: one level (D = 0) ending at the end of the leaves
    const base = dagCbor.decode(small.blocks.find(b => b.cid.equals(small.root))!.bytes) as any
    const total = leaves.reduce((n, l) => n + l.size, 0)
    return await cborBlock({
      ...base,
      width,
      height,
      codestream: { ...base.codestream, decompositions: 0, length: total + 2 },
      leaves,
      levels: [{ level: 0, width, height, end: total, leaves: leaves.length, file: base.levels[0].file, bytes: total + 2 }]
    })
  }

  it('a root listing one leaf 8192 times is refused before any leaf is fetched', async () => {
    const leaf = await rawBlock(new Uint8Array(4096).fill(7))
    const root = await craftedImageRoot(Array.from({ length: 8192 }, () => ({ cid: leaf.cid, size: 4096 })), 8192, 8192)
    const source = new MemorySource([leaf, root, ...small.blocks])
    const dir = await tmp()
    await expect(retrieve(source, root.cid, { out: join(dir, 'x.png') })).rejects.toThrow(/leaves\[1\] repeats leaves\[0\]/)
    expect(source.reads).toEqual([root.cid.toString()])
    await expect(walkLevel(source, root.cid, () => {})).rejects.toMatchObject({ name: 'FormatError' })
    expect(source.reads.filter(c => c === leaf.cid.toString())).toEqual([])
  })

  it('distinct leaves adding up to more than a lossless codestream of the declared pixels are refused before any is fetched', async () => {
    const leaves = await Promise.all(Array.from({ length: 4 }, async (_, i) => rawBlock(new Uint8Array(256 * 1024).fill(i + 1))))
    // 64x64 12-bit pixels are 8 KiB raw; 1 MiB of leaves is no lossless codestream of them
    const root = await craftedImageRoot(leaves.map(l => ({ cid: l.cid, size: l.bytes.byteLength })), 64, 64)
    const source = new MemorySource([...leaves, root, ...small.blocks])
    const dir = await tmp()
    await expect(retrieve(source, root.cid, { out: join(dir, "x.png") })).rejects.toThrow(/level 0 \(64x64x1, 12 bits\) holds \d+ bytes after the main header, more than the \d+ a lossless codestream of those pixels can need/)
    expect(source.reads).toEqual([root.cid.toString()])
  })

  it('a consistent root whose level decodes to more than the decoder accepts is refused before its leaves are fetched (get), and get\'s fetch walk skips them', async () => {
    const leaf = await rawBlock(new Uint8Array(4096).fill(9))
    // 10000 x 10000 12-bit samples: 200 MB decoded, over the decoder's 128 MiB
    const root = await craftedImageRoot([{ cid: leaf.cid, size: 4096 }], 10000, 10000)
    const source = new MemorySource([leaf, root, ...small.blocks])
    const dir = await tmp()
    await expect(retrieve(source, root.cid, { out: join(dir, 'x.png') })).rejects.toMatchObject({ name: 'CodecError', message: expect.stringMatching(/10000x10000x1 samples .* more than the 134217728-byte limit/) })
    expect(source.reads).toEqual([root.cid.toString()])
    const visited: string[] = []
    await walkLevel(source, root.cid, b => { visited.push(b.role) }, { decodableOnly: true })
    expect(visited).toEqual(['image'])
    // a mirror still takes every block
    visited.length = 0
    await walkLevel(source, root.cid, b => { visited.push(b.role) })
    expect(visited).toEqual(['image', 'leaf'])
  })

  it('the builder refuses what readers refuse, so every published root reads back', async () => {
    const cs = await encodeHTJ2K(synthesizeImage(8, 8, 8, false, 1, 1), { decompositions: 1 })
    // the same codestream with 64 KiB of zeros at the end of its last tile-part (SOT and TLM lengths
    // adjusted, so it still parses) is 1000x its pixels
    const pad = 65536
    const padded = new Uint8Array(cs.byteLength + pad)
    padded.set(cs.subarray(0, cs.byteLength - 2))
    padded.set([0xff, 0xd9], padded.byteLength - 2)
    const view = new DataView(padded.buffer)
    let sot = padded.findIndex((b, i) => b === 0xff && padded[i + 1] === 0x90)
    const tlm = padded.findIndex((b, i) => b === 0xff && padded[i + 1] === 0x55 && i < sot)
    let part = 0
    while (sot + view.getUint32(sot + 6) < cs.byteLength - 2) { sot += view.getUint32(sot + 6); part++ }
    const psot = view.getUint32(sot + 6)
    view.setUint32(sot + 6, psot + pad)
    const st = (padded[tlm + 5] >> 4) & 3
    const wide = ((padded[tlm + 5] >> 6) & 1) === 1
    const at = tlm + 6 + part * (st + (wide ? 4 : 2)) + st
    if (wide) view.setUint32(at, psot + pad)
    else view.setUint16(at, psot + pad)
    await expect(buildImageDag(padded, { bitsStored: 8, signed: false, components: 1 }, { sourceFormat: 'png' })).rejects.toThrow(/more than the \d+ a lossless codestream of those pixels can need/)
  })
})

describe('4. a volume root cannot declare more slices than its shards hold', () => {
  it('4096 shard entries pointing at one shard of 4096 copies of one tiny image root (16.7M slices) are refused when the root is read', async () => {
    const shard = await cborBlock({ mist: 'slices', version: 1, slices: Array.from({ length: SLICES_PER_SHARD }, () => small.root) })
    const n = 4096 * SLICES_PER_SHARD
    const vol = await buildVolumeDag(volumeMeta(24, 16, 1), [{ root: small.root, levels: small.levels }])
    const base = dagCbor.decode(vol.blocks[0].bytes) as any
    const { slices: _inline, ...rest } = base
    const root = await cborBlock({ ...rest, meta: { ...base.meta, dims: [24, 16, n] }, sliceCount: n, shards: Array.from({ length: 4096 }, () => ({ cid: shard.cid, count: SLICES_PER_SHARD })), levels: base.levels.map((l: any) => ({ ...l, bytes: l.bytes * n })) })
    const source = new MemorySource([shard, root, ...small.blocks])
    const dir = await tmp()
    await expect(readRoot(source, root.cid)).rejects.toThrow(/shards\[1\] repeats an earlier shard/)
    await expect(retrieve(source, root.cid, { out: join(dir, 'v.nii') })).rejects.toMatchObject({ name: 'FormatError' })
    await expect(walkLevel(source, root.cid, () => {})).rejects.toMatchObject({ name: 'FormatError' })
    expect(source.reads.filter(c => c === shard.cid.toString())).toEqual([])
  })

  it('a root whose sliceCount is not its declared depth, or whose slices are larger than it says, is refused before any leaf is fetched', async () => {
    const big = await imageDag(64, 48, 9)
    const vol = await buildVolumeDag(volumeMeta(64, 48, 2), [{ root: big.root, levels: big.levels }, { root: big.root, levels: big.levels }])
    const base = dagCbor.decode(vol.blocks[0].bytes) as any
    const depthLie = await cborBlock({ ...base, meta: { ...base.meta, dims: [64, 48, 1] } })
    await expect(readRoot(new MemorySource([depthLie]), depthLie.cid)).rejects.toThrow(/sliceCount 2 differs from the declared depth meta.dims\[2\] 1/)
    // the volume says its slices are 1x1 (so a writer would plan a tiny file); they are 64x48
    const sizeLie = await cborBlock({ ...base, meta: { ...base.meta, dims: [1, 1, 2] }, levels: [{ level: 0, width: 1, height: 1, bytes: base.levels[0].bytes }] })
    const source = new MemorySource([sizeLie, ...big.blocks])
    const dir = await tmp()
    await expect(retrieve(source, sizeLie.cid, { out: join(dir, 'v.nii') })).rejects.toThrow(/slice 0 has levels 16x12, 32x24, 64x48 but its volume root says 1x1/)
    const leaves = new Set((dagCbor.decode(big.blocks.find(b => b.cid.equals(big.root))!.bytes) as any).leaves.map((l: any) => l.cid.toString()))
    expect(source.reads.filter(c => leaves.has(c))).toEqual([])
  })

  it('walkers take slices from the shards as they go: shard 1 is read only after slices of shard 0 were walked', async () => {
    // 8193 slices, all one image but slice 4096 (repeated slice roots are honest: identical slices, e.g. empty ones)
    const n = 2 * SLICES_PER_SHARD + 1
    const other = await imageDag(24, 16, 4, { signed: true })
    const vol = await buildVolumeDag(volumeMeta(24, 16, n), Array.from({ length: n }, (_, z) => z === SLICES_PER_SHARD ? { root: other.root, levels: other.levels } : { root: small.root, levels: small.levels }))
    expect(vol.blocks.length).toBe(4)
    const source = new MemorySource([...vol.blocks, ...small.blocks, ...other.blocks])
    const shardCids = (dagCbor.decode(vol.blocks.find(b => b.cid.equals(vol.root))!.bytes) as any).shards.map((s: any) => s.cid.toString())
    await walkLevel(source, vol.root, () => {}, { level: 0 })
    const firstSlice = source.reads.indexOf(small.root.toString())
    expect(firstSlice).toBeGreaterThan(0)
    expect(source.reads.indexOf(shardCids[1])).toBeGreaterThan(firstSlice)
    // the decoding reader too: its first slice comes out with only shard 0 read
    source.reads.length = 0
    const plan = await planEntry(source, { name: 'v', cid: vol.root, clamp: false, root: await openRoot(source, vol.root) }, { level: 0 })
    for await (const s of volumeLevelSlices(source, plan as VolumePlan, { concurrency: 4 })) {
      expect(s.z).toBe(0)
      break
    }
    expect(source.reads.filter(c => shardCids.includes(c))).toEqual([shardCids[0]])
  }, 60_000)
})

describe('10. no write goes through a symbolic link inside the output directory', () => {
  it('out/sub -> elsewhere: the entry "sub/x.png" is refused and nothing appears elsewhere', async () => {
    const dir = await tmp()
    const out = join(dir, 'out')
    const elsewhere = join(dir, 'elsewhere')
    mkdirSync(out)
    mkdirSync(elsewhere)
    symlinkSync(elsewhere, join(out, 'sub'))
    const img = await imageDag(16, 16, 1)
    const vol = await buildVolumeDag(volumeMeta(24, 16, 1), [{ root: small.root, levels: small.levels }])
    const ds = await buildDatasetDag([
      { name: 'sub/x.png', root: img.root, kind: 'image', levels: img.levels },
      { name: 'sub/deeper/y.png', root: img.root, kind: 'image', levels: img.levels },
      { name: 'sub/v.nii', root: vol.root, kind: 'volume', levels: vol.levels },
      { name: 'fine.png', root: img.root, kind: 'image', levels: img.levels }
    ])
    const source = new MemorySource([...img.blocks, ...small.blocks, ...vol.blocks, ...ds.blocks])
    for (const format of [undefined, 'dcm'] as const) {
      const r = await retrieve(source, ds.root, { out, format })
      expect(r.failures.map(f => f.name).sort()).toEqual(['sub/deeper/y.png', 'sub/v.nii', 'sub/x.png'])
      for (const f of r.failures) expect(f.error).toMatchObject({ name: 'OutputPathError', message: expect.stringMatching(/is a symbolic link inside the output directory/) })
      expect(readdirSync(elsewhere)).toEqual([])
      expect(r.outputs.map(o => o.name)).toEqual(['fine.png'])
    }
    expect(lstatSync(join(out, 'sub')).isSymbolicLink()).toBe(true)
  })
})

describe('get -o: an existing file is not replaced unless asked', () => {
  it('a different file at -o is kept and refused; identical content is accepted (reruns); --force replaces; -o DIR writes into it', async () => {
    const dir = await tmp()
    const img = await imageDag(16, 16, 1)
    const source = new MemorySource(img.blocks)
    const path = join(dir, 'mine.png')
    writeFileSync(path, 'not an image of this root')
    await expect(retrieve(source, img.root, { out: path })).rejects.toMatchObject({ name: 'OutputExistsError', message: expect.stringMatching(/mine\.png already exists with other content; it was left as it is.*--force/) })
    expect(readFileSync(path, 'utf8')).toBe('not an image of this root')
    expect(readdirSync(dir)).toEqual(['mine.png'])
    const forced = await retrieve(source, img.root, { out: path, force: true })
    expect(pngWidth(forced.outputs[0].paths[0])).toBe(16)
    const again = await retrieve(source, img.root, { out: path })
    expect(again.outputs[0].paths).toEqual([path])
    // DICOM outputs name their UIDs after the root and level, so a rerun is the same file too
    await retrieve(source, img.root, { out: join(dir, 'x.dcm'), format: 'dcm', level: 1 })
    await retrieve(source, img.root, { out: join(dir, 'x.dcm'), format: 'dcm', level: 1 })
    const sub = join(dir, 'sub')
    mkdirSync(sub)
    const into = await retrieve(source, img.root, { out: sub, level: 0 })
    expect(into.outputs[0].paths).toEqual([join(sub, `${img.root.toString()}-L0.png`)])
    expect(pngWidth(into.outputs[0].paths[0])).toBe(4)
  })

  it('the CLI: a clear error and exit 1 without --force, success with it', async () => {
    const dir = await tmp()
    const repo = join(dir, 'repo')
    writeFileSync(join(dir, 'a.png'), Buffer.from(await (await import('../../src/formats/index.js')).encodePng(synthesizeImage(16, 16, 8, false, 1, 4))))
    const pub = await cli(['publish', join(dir, 'a.png'), '--repo', repo, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const root = JSON.parse(pub.stdout).root
    writeFileSync(join(dir, 'out.png'), 'keep me')
    const refused = await cli(['get', root, '-o', join(dir, 'out.png'), '--repo', repo])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/OutputExistsError: .*out\.png already exists with other content; it was left as it is\. .*--force/)
    expect(readFileSync(join(dir, 'out.png'), 'utf8')).toBe('keep me')
    const forced = await cli(['get', root, '-o', join(dir, 'out.png'), '--repo', repo, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    const rerun = await cli(['get', root, '-o', join(dir, 'out.png'), '--repo', repo])
    expect(rerun.code, rerun.stderr).toBe(0)
  }, 60_000)
})
