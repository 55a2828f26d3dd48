/**
 * The per-level UnixFS directories of a dataset (format version 2) without any other IPFS
 * implementation: the directory encoder's plain/HAMT switch at Kubo's threshold and its HAMT
 * layout; the tree of each level (names as `get --format j2c` writes them, volumes as
 * directories of slices, nesting) linking the images' existing level files; a many-entry
 * dataset whose folder is sharded, with what the directories cost; version-1 roots still read.
 * (Against Kubo itself: test/e2e/kubo-browse.test.ts.)
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { murmur3128 } from '@multiformats/murmur3'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HAMT_THRESHOLD_BYTES, buildDatasetDag, buildImageDag, buildUnixfsDirectory, decodeDatasetRoot, decodeImageRoot, estimateDirectorySize,
  type DatasetEntry, type DirLink
} from '../../src/chunker/index.js'
import { encodeHTJ2K } from '../../src/codec/index.js'
import { gradientImage, patternImage, writeExamples } from '../../src/examples/index.js'
import { encodePng } from '../../src/formats/index.js'
import { buildDatasetDirectories } from '../../src/publish/dataset-dirs.js'
import { walkLevel } from '../../src/level/index.js'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import type { Block } from '../../src/types.js'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-level-dirs-')) })
afterAll(async () => { await cleanup?.() })

async function rawCid (text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

/** A block source over a map (what a repo holds). */
function memory (): { put: (b: Block) => Promise<void>, get: (c: CID) => Promise<Uint8Array>, has: (c: CID) => Promise<boolean>, map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>()
  return {
    map,
    put: async b => { map.set(b.cid.toString(), b.bytes) },
    get: async c => { const b = map.get(c.toString()); if (b === undefined) throw new Error(`missing ${c}`); return b },
    has: async c => map.has(c.toString())
  }
}

/**
 * Lists a UnixFS directory like `ipfs ls` does, reading HAMT shards by the spec (independently
 * of the builder): name -> child CID. Checks every shard's header on the way.
 */
async function list (get: (c: CID) => Promise<Uint8Array>, cid: CID): Promise<Map<string, CID>> {
  const node = dagPb.decode(await get(cid))
  const fs = UnixFS.unmarshal(node.Data!)
  const out = new Map<string, CID>()
  if (fs.type === 'directory') {
    for (const l of node.Links) out.set(l.Name!, l.Hash)
    return out
  }
  // hashType (field 5) = 0x22, murmur3-x64-64 (ipfs-unixfs' unmarshal does not return it)
  if (fs.type !== 'hamt-sharded-directory' || fs.fanout !== 256n || !Buffer.from(node.Data!).includes(Buffer.from([0x28, 0x22]))) {
    expect({ type: fs.type, fanout: fs.fanout, hashType: Buffer.from(node.Data!).includes(Buffer.from([0x28, 0x22])) }, `shard ${cid}`).toEqual({ type: 'hamt-sharded-directory', fanout: 256n, hashType: true })
  }
  // the bitfield marks exactly the slots that have links: a big-endian integer (leading zero bytes dropped) whose bit i is slot i
  const slots = node.Links.map(l => parseInt(l.Name!.slice(0, 2), 16))
  const bits = BigInt('0x' + Buffer.from(fs.data!).toString('hex'))
  const marked = Array.from({ length: 256 }, (_, i) => i).filter(i => ((bits >> BigInt(i)) & 1n) === 1n)
  if (marked.join() !== slots.join()) expect(marked, `bitfield of ${cid}`).toEqual(slots)
  for (const l of node.Links) {
    if (l.Name!.length === 2) for (const [n, c] of await list(get, l.Hash)) out.set(n, c)
    else out.set(l.Name!.slice(2), l.Hash)
  }
  return out
}

/** Resolves `path` in a directory tree by the HAMT rule (murmur3-x64-64 of the name, one byte a level), as a gateway does, without the trie library. */
async function resolvePath (get: (c: CID) => Promise<Uint8Array>, top: CID, path: string): Promise<CID | undefined> {
  let at = top
  for (const segment of path.split('/')) {
    let node = dagPb.decode(await get(at))
    let fs = UnixFS.unmarshal(node.Data!)
    if (fs.type === 'directory') {
      const hit = node.Links.find(l => l.Name === segment)
      if (hit === undefined) return undefined
      at = hit.Hash
      continue
    }
    // the slot at depth d is byte d of the name's murmur3-x64-128 digest (its first 64 bits: murmur3-x64-64)
    const hash = (await murmur3128.encode(new TextEncoder().encode(segment))).slice(0, 8)
    let found: CID | undefined
    for (let depth = 0; depth < 8 && found === undefined; depth++) {
      const label = hash[depth].toString(16).toUpperCase().padStart(2, '0')
      const link = node.Links.find(l => l.Name!.startsWith(label))
      if (link === undefined) return undefined
      if (link.Name === label) { node = dagPb.decode(await get(link.Hash)); fs = UnixFS.unmarshal(node.Data!); expect(fs.type).toBe('hamt-sharded-directory'); continue }
      if (link.Name !== label + segment) return undefined
      found = link.Hash
    }
    if (found === undefined) return undefined
    at = found
  }
  return at
}

describe('UnixFS directory encoder', () => {
  it('a plain directory: links sorted by name, Tsize = node + children', async () => {
    const links: DirLink[] = []
    for (const n of ['b.j2c', 'a.j2c', 'c']) links.push({ name: n, cid: await rawCid(n), tsize: 100 + n.length })
    const d = await buildUnixfsDirectory(links)
    expect(d.sharded).toBe(false)
    expect(d.blocks).toHaveLength(1)
    const node = dagPb.decode(d.blocks[0].bytes)
    expect(UnixFS.unmarshal(node.Data!).type).toBe('directory')
    expect(node.Links.map(l => l.Name)).toEqual(['a.j2c', 'b.j2c', 'c'])
    expect(d.tsize).toBe(d.blocks[0].bytes.byteLength + links.reduce((s, l) => s + l.tsize, 0))
    await expect(buildUnixfsDirectory([...links, links[0]])).rejects.toThrow(/two entries named "b.j2c"/)
    await expect(buildUnixfsDirectory([{ ...links[0], name: 'a/b' }])).rejects.toThrow(/no "\/"/)
  })

  it('shards exactly above Kubo\'s threshold (name bytes + CID bytes > 256 KiB), and every name resolves by its hash', async () => {
    // 2048 links of 92-byte names + 36-byte CIDs = 262144 bytes: exactly at the threshold
    const links: DirLink[] = []
    for (let i = 0; i < 2048; i++) {
      const name = `entry-${String(i).padStart(6, '0')}-`.padEnd(92, 'x')
      links.push({ name, cid: await rawCid(name), tsize: 10 })
    }
    expect(estimateDirectorySize(links)).toBe(HAMT_THRESHOLD_BYTES)
    const plain = await buildUnixfsDirectory(links)
    expect(plain.sharded).toBe(false)
    links[0] = { ...links[0], name: links[0].name + 'y' }
    const sharded = await buildUnixfsDirectory(links)
    expect(sharded.sharded).toBe(true)
    const m = memory()
    for (const b of sharded.blocks) await m.put(b)
    const listed = await list(m.get, sharded.cid)
    expect(listed.size).toBe(2048)
    for (const l of links) expect(listed.get(l.name)?.equals(l.cid), l.name).toBe(true)
    for (const l of links.slice(0, 50)) expect((await resolvePath(m.get, sharded.cid, l.name))?.equals(l.cid)).toBe(true)
    expect(await resolvePath(m.get, sharded.cid, 'not-there')).toBeUndefined()
    // Tsize of the top = every shard node + every child's Tsize
    expect(sharded.tsize).toBe(sharded.blocks.reduce((s, b) => s + b.bytes.byteLength, 0) + 2048 * 10)
    console.log(`[level-dirs] 2049th byte: ${sharded.blocks.length} HAMT nodes, ${sharded.blocks.reduce((s, b) => s + b.bytes.byteLength, 0)} B vs plain ${plain.blocks[0].bytes.byteLength} B`)
  })
})

describe('dataset level directories', () => {
  let repo: Repo
  let root: CID
  let levelDirs: string[]

  beforeAll(async () => {
    await writeExamples(join(dir, 'in'))
    // nesting and name collisions: two entries that get would both write as scans/x.j2c
    await mkdir(join(dir, 'in', 'scans', 'deep'), { recursive: true })
    await writeFile(join(dir, 'in', 'scans', 'x.png'), encodePng(patternImage()))
    await writeFile(join(dir, 'in', 'scans', 'x.PNG'), encodePng(patternImage()))
    await writeFile(join(dir, 'in', 'scans', 'deep', 'g.png'), encodePng(gradientImage()))
    repo = await Repo.open({ path: join(dir, 'repo'), create: true })
    const res = await publish([join(dir, 'in')], { repo })
    expect(res.failures).toEqual([])
    root = res.root!
    levelDirs = res.directories!.dirs.map(String)
  }, 120_000)
  afterAll(async () => { await repo?.close() })

  it('the root is version 2 and links one directory per level; each level is the tree get --format j2c writes, over the entries\' own level files', async () => {
    const ds = decodeDatasetRoot(await repo.get(root), root)
    expect(ds.version).toBe(2)
    expect(ds.levels.map(l => l.dir!.toString())).toEqual(levelDirs)
    const get = async (c: CID): Promise<Uint8Array> => await repo.get(c)
    const top = await list(get, ds.levels[0].dir!)
    expect([...top.keys()].sort()).toEqual(['phantom', 'radiograph.j2c', 'scans'])
    expect([...(await list(get, top.get('scans')!)).keys()].sort()).toEqual(['deep', 'x.j2c', 'x.png.j2c']) // x.PNG sorts first; x.png then collides (case-folded) and takes get's next name
    const phantom = await list(get, top.get('phantom')!)
    expect(phantom.size).toBe(48)
    expect([...phantom.keys()].slice(0, 2)).toEqual(['slice-0000.j2c', 'slice-0001.j2c'])
    for (const k of [1, ds.levels.length - 1]) {
      const paths: string[] = []
      const walk = async (c: CID, prefix: string): Promise<void> => {
        for (const [n, child] of await list(get, c)) {
          const node = dagPb.decode(await get(child))
          if (UnixFS.unmarshal(node.Data!).type === 'file') paths.push(prefix + n)
          else await walk(child, `${prefix}${n}/`)
        }
      }
      await walk(ds.levels[k].dir!, '')
      expect(paths.length).toBe(48 + 4)
      // every file is the entry's existing level file of level min(k, finest): nothing new but directories
      const entry = ds.entries!.find(e => e.name === 'radiograph.png')!.root
      const radiograph = decodeImageRoot(await repo.get(entry), entry)
      const file = await resolvePath(get, ds.levels[k].dir!, 'radiograph.j2c')
      expect(file?.toString()).toBe(radiograph.levels[Math.min(k, radiograph.levels.length - 1)].file.toString())
    }
  }, 60_000)

  it('the directory tree equals the files `mist-p2p get --level 1 --format j2c` writes', async () => {
    await repo.close()
    try {
      const out = join(dir, 'got-1')
      const got = await cli(['get', root.toString(), '--level', '1', '--format', 'j2c', '-o', out, '--repo', join(dir, 'repo')])
      expect(got.code, got.stderr).toBe(0)
      const written = (await readdir(out, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).map(e => relative(out, join(e.parentPath, e.name))).filter(p => p !== 'manifest.jsonl').sort()
      const again = await Repo.open({ path: join(dir, 'repo') })
      try {
        const ds = decodeDatasetRoot(await again.get(root), root)
        const get = async (c: CID): Promise<Uint8Array> => await again.get(c)
        const paths: string[] = []
        const walk = async (c: CID, prefix: string): Promise<void> => {
          for (const [n, child] of await list(get, c)) {
            if (UnixFS.unmarshal(dagPb.decode(await get(child)).Data!).type === 'file') paths.push(prefix + n)
            else await walk(child, `${prefix}${n}/`)
          }
        }
        await walk(ds.levels[1].dir!, '')
        expect(paths.sort()).toEqual(written)
      } finally { await again.close() }
    } finally {
      repo = await Repo.open({ path: join(dir, 'repo') })
    }
  }, 60_000)

  it('a version-1 root of the same entries still reads, and its walks include no directory', async () => {
    const ds = decodeDatasetRoot(await repo.get(root), root)
    const entries = ds.entries!.map(e => ({ name: e.name, root: e.root, kind: e.kind, levels: [] as any[] }))
    // the levels of each entry, from its root
    for (const e of entries) {
      const r = await repo.get(e.root)
      e.levels = e.kind === 'image' ? decodeImageRoot(r, e.root).levels.map(l => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes })) : (await import('../../src/chunker/index.js')).decodeVolumeRoot(r, e.root).levels
    }
    const v1 = await buildDatasetDag(entries)
    await repo.putBlocks(v1.blocks)
    const back = decodeDatasetRoot(await repo.get(v1.root), v1.root)
    expect(back.version).toBe(1)
    expect(back.levels.every(l => l.dir === undefined)).toBe(true)
    const roles = new Set<string>()
    await walkLevel(repo, v1.root, b => { roles.add(b.role) }, { level: 1, levelFiles: true })
    expect(roles.has('dir')).toBe(false)
    const roles2 = new Set<string>()
    await walkLevel(repo, root, b => { roles2.add(b.role) }, { level: 1, levelFiles: true })
    expect(roles2.has('dir')).toBe(true)
    // a version-1 root with a `dir`, or a version-2 root without one, is refused
    const dagCbor = await import('@ipld/dag-cbor')
    const node: any = dagCbor.decode(await repo.get(root))
    const tamper = async (f: (n: any) => void): Promise<() => unknown> => {
      const n = structuredClone({ ...node, levels: node.levels.map((l: any) => ({ ...l })) })
      for (const l of n.levels) if (l.dir != null) l.dir = CID.asCID(l.dir) ?? l.dir
      f(n)
      const bytes = dagCbor.encode(n)
      const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
      return () => decodeDatasetRoot(bytes, cid)
    }
    expect(await tamper(n => { n.levels = node.levels })).not.toThrow()
    expect(await tamper(n => { n.version = 1; n.levels = node.levels })).toThrow(/levels\[0\]\.dir is not a version-1 field/)
    expect(await tamper(n => { n.levels = node.levels.map((l: any) => ({ level: l.level, bytes: l.bytes, images: l.images })) })).toThrow(/levels\[0\]\.dir must be a CID/)
    expect(await tamper(n => { n.levels = node.levels.map((l: any) => ({ ...l, dir: n.entries[0].root })) })).toThrow(/levels\[0\]\.dir has codec 0x71/)
    expect(await tamper(n => { n.version = 3; n.levels = node.levels })).toThrow(/version must be 1 or 2/)
  }, 60_000)

  it('a walk refuses a level directory that links a file which is none of the dataset\'s level files', async () => {
    const dagCbor = await import('@ipld/dag-cbor')
    const { buildLevelFile } = await import('../../src/chunker/level-file.js')
    const { rawBlock } = await import('../../src/chunker/block.js')
    const leaf = await rawBlock(new TextEncoder().encode('not an image'))
    const eoc = await rawBlock(Uint8Array.from([0xff, 0xd9]))
    const stranger = await buildLevelFile([{ cid: leaf.cid, size: leaf.bytes.byteLength }, { cid: eoc.cid, size: 2 }])
    const bad = await buildUnixfsDirectory([{ name: 'stranger.j2c', cid: stranger.root, tsize: 100 }])
    await repo.putBlocks([leaf, eoc, ...stranger.nodes, ...bad.blocks])
    const node: any = dagCbor.decode(await repo.get(root))
    const bytes = dagCbor.encode({ ...node, levels: node.levels.map((l: any) => ({ ...l, dir: bad.cid })) })
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
    await repo.putBlocks([{ cid, bytes }])
    await expect(walkLevel(repo, cid, () => {}, { level: 1, levelFiles: true })).rejects.toThrow(/links a UnixFS file that is none of the dataset's level files/)
    // verify reports it, and passes the honest root, whose directories it reads
    const { verifyRoot } = await import('../../src/verify/index.js')
    const bad2 = await verifyRoot(repo, cid, { level: 1, decode: false })
    expect(bad2.ok).toBe(false)
    expect(bad2.problems[0]).toMatchObject({ kind: 'format', message: expect.stringMatching(/none of the dataset's level files/) })
    const good = await verifyRoot(repo, root, { level: 1, decode: false })
    expect(good.problems).toEqual([])
    const roles: string[] = []
    await walkLevel(repo, root, b => { if (b.role === 'dir') roles.push(b.cid.toString()) }, { level: 1, levelFiles: true })
    expect(roles.length).toBeGreaterThan(0)
    // get does not read the directories at all
    await expect(walkLevel(repo, cid, () => {}, { level: 1 })).resolves.toBeDefined()
  }, 60_000)
})

describe('a many-entry dataset', () => {
  it('3,000 entries with long names in one folder: the folder is a HAMT, every name resolves, and the directories cost tens of bytes per entry per level', async () => {
    const image = patternImage()
    const dag = await buildImageDag(await encodeHTJ2K(image, { decompositions: 3 }), image, { sourceFormat: 'synthetic' }, { groupBytes: 0 })
    const m = memory()
    for (const b of dag.blocks) await m.put(b)
    const n = 3000
    const entries: DatasetEntry[] = Array.from({ length: n }, (_, i) => ({ name: `many/patient-${String(i).padStart(5, '0')}-study-with-a-rather-long-descriptive-name.png`, root: dag.root, kind: 'image' as const }))
    entries.push({ name: 'readme-image.png', root: dag.root, kind: 'image' })
    const started = performance.now()
    const made = await buildDatasetDirectories(m, entries, dag.levels.length, { put: m.put })
    const ms = performance.now() - started
    expect(made.omitted).toEqual([])
    expect(made.stats.sharded).toBe(dag.levels.length) // the folder at each level (levels differ: ungrouped)
    const ds = await buildDatasetDag(entries.map(e => ({ ...e, levels: dag.levels })), { dirs: made.dirs })
    for (const b of ds.blocks) await m.put(b)
    const root = decodeImageRoot(await m.get(dag.root), dag.root)
    for (const [k, d] of made.dirs.entries()) {
      const top = await list(m.get, d)
      expect([...top.keys()].sort()).toEqual(['many', 'readme-image.j2c'])
      const folder = await list(m.get, top.get('many')!)
      expect(folder.size).toBe(n)
      for (const i of [0, 1234, n - 1]) {
        const path = `many/patient-${String(i).padStart(5, '0')}-study-with-a-rather-long-descriptive-name.j2c`
        expect((await resolvePath(m.get, d, path))?.toString(), path).toBe(root.levels[k].file.toString())
      }
    }
    const perEntryLevel = made.stats.bytes / (entries.length * dag.levels.length)
    console.log(`[level-dirs] ${entries.length} entries x ${dag.levels.length} levels: ${made.stats.blocks} directory blocks, ${made.stats.bytes} B, ${perEntryLevel.toFixed(1)} B per entry per level (names ~68 B), built in ${ms.toFixed(0)} ms`)
    // a link is its name, its CID (36 B) and a few bytes of framing and Tsize
    expect(perEntryLevel).toBeLessThan(68 + 36 + 20)
    // a walk of the whole dataset at level 1 (CAR export, mirrors) visits the level-0 and level-1 directories
    const dirs: string[] = []
    await walkLevel(m, ds.root, b => { if (b.role === 'dir') dirs.push(b.cid.toString()) }, { level: 1, levelFiles: true })
    expect(dirs.length).toBe(made.stats.blocks / dag.levels.length * 2)
  }, 60_000)
})
