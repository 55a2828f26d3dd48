import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeHTJ2K, encodeHTJ2K } from '../../src/codec/index.js'
import {
  CHUNK_BYTES, DEFAULT_GROUP_BYTES, EOC_CID, MAX_BLOCK_BYTES, MAX_LINKS, buildImageDag, buildLevelFile, decodeImageRoot,
  eocBlock, leafBoundaries, levelPlan, parseCodestream, planLeaves
} from '../../src/chunker/index.js'
import type { Block, RasterImage } from '../../src/types.js'
import { OPJ_DECOMPRESS } from '../helpers/env.js'

/** xorshift32: deterministic noise. */
function noise (n: number, bits: number, seed = 1): Uint16Array {
  const out = new Uint16Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = (x >>> 0) & ((1 << bits) - 1)
  }
  return out
}

function gradient (width: number, height: number, bits: number): RasterImage {
  const data = new Uint16Array(width * height)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = Math.floor((x * 4095 / (width - 1) + y * 3 + (x * y) % 17)) & ((1 << bits) - 1)
  return { width, height, components: 1, bitsStored: bits, signed: false, data }
}

function concat (parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts)
}

/** Read a UnixFS file back by walking dag-pb nodes and raw leaves in `blocks`, checking every hash. */
async function catUnixfs (cid: CID, blocks: Map<string, Uint8Array>): Promise<Uint8Array> {
  const bytes = blocks.get(cid.toString())
  if (bytes === undefined) throw new Error(`missing block ${cid}`)
  const digest = await sha256.digest(bytes)
  expect(Buffer.compare(digest.digest, cid.multihash.digest)).toBe(0)
  if (cid.code === raw.code) return bytes
  expect(cid.code).toBe(dagPb.code)
  const node = dagPb.decode(bytes)
  const fs = UnixFS.unmarshal(node.Data!)
  expect(fs.type).toBe('file')
  expect(fs.blockSizes).toHaveLength(node.Links.length)
  const parts: Uint8Array[] = []
  for (const [i, link] of node.Links.entries()) {
    const part = await catUnixfs(link.Hash, blocks)
    expect(BigInt(part.byteLength)).toBe(fs.blockSizes[i])
    parts.push(part)
  }
  return concat(parts)
}

function blockMap (blocks: Block[]): Map<string, Uint8Array> {
  return new Map(blocks.map(b => [b.cid.toString(), b.bytes]))
}

describe('planLeaves on a big noisy image (forces splitting)', () => {
  let cs: Uint8Array
  beforeAll(async () => {
    const image: RasterImage = { width: 3000, height: 3000, components: 1, bitsStored: 16, signed: false, data: noise(3000 * 3000, 16) }
    cs = await encodeHTJ2K(image, { decompositions: 5 })
  })

  it('leaves concatenate to the codestream without EOC, none over 1 MiB, boundaries at level ends', async () => {
    const layout = parseCodestream(cs, 'noise')
    const plan = await planLeaves(cs, layout)
    expect(plan.leaves.length).toBeGreaterThan(10)
    const whole = concat(plan.leaves.map(l => l.bytes))
    expect(whole.byteLength).toBe(cs.byteLength - 2)
    expect(Buffer.compare(concat([whole, Uint8Array.of(0xff, 0xd9)]), cs)).toBe(0)
    for (const l of plan.leaves) {
      expect(l.bytes.byteLength).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
      expect(l.bytes.byteLength).toBeLessThanOrEqual(CHUNK_BYTES)
      expect(l.cid.code).toBe(raw.code)
      expect(Buffer.compare((await sha256.digest(l.bytes)).digest, l.cid.multihash.digest)).toBe(0)
    }
    // every level end is a leaf end (except levels grouped into the first leaf)
    const ends = new Set<number>()
    let at = 0
    for (const l of plan.leaves) ends.add(at += l.bytes.byteLength)
    expect(plan.leafCountForLevel).toHaveLength(layout.levels.length)
    for (const [k, lv] of layout.levels.entries()) {
      const n = plan.leafCountForLevel[k]
      const covered = plan.leaves.slice(0, n).reduce((a, b) => a + b.bytes.byteLength, 0)
      expect(covered).toBeGreaterThanOrEqual(lv.end)
      if (lv.end > DEFAULT_GROUP_BYTES || k === layout.levels.length - 1) expect(ends.has(lv.end)).toBe(true)
      if (covered !== lv.end) expect(n).toBe(1) // only the grouped first leaf may run past a level end
    }
    // big levels are cut into near-equal pieces: within one level, sizes differ by at most 1 byte
    for (let k = 1; k < layout.levels.length; k++) {
      const sizes = plan.leaves.slice(plan.leafCountForLevel[k - 1], plan.leafCountForLevel[k]).map(l => l.bytes.byteLength)
      if (sizes.length > 1) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      expect(sizes.length).toBe(Math.ceil((layout.levels[k].end - layout.levels[k - 1].end) / CHUNK_BYTES))
    }
  })

  it('image DAG: level files read back as prefix + EOC, blocks each once, every block <= 1 MiB', async () => {
    const dag = await buildImageDag(cs, { bitsStored: 16, signed: false, components: 1 }, { sourceFormat: 'synthetic' }, { name: 'noise' })
    const keys = dag.blocks.map(b => b.cid.toString())
    expect(new Set(keys).size).toBe(keys.length)
    for (const b of dag.blocks) expect(b.bytes.byteLength).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
    // leaves are stored once: total block bytes = codestream + EOC leaf + small nodes
    const rawBytes = dag.blocks.filter(b => b.cid.code === raw.code).reduce((a, b) => a + b.bytes.byteLength, 0)
    expect(rawBytes).toBe(cs.byteLength) // leaves (cs - 2) + EOC (2)
    const map = blockMap(dag.blocks)
    const root = decodeImageRoot(map.get(dag.root.toString())!, dag.root)
    console.log(`3000x3000 noise: codestream ${cs.byteLength} B, ${root.leaves.length} leaves, root ${map.get(dag.root.toString())!.byteLength} B, level ends ${root.levels.map(l => l.end).join('/')}`)
    for (const lv of root.levels) {
      const file = await catUnixfs(lv.file, map)
      const plan = levelPlan(root, lv.level)
      const prefix = concat(plan.leaves.map(l => map.get(l.cid.toString())!))
      expect(Buffer.compare(file, concat([prefix, Uint8Array.of(0xff, 0xd9)]))).toBe(0)
      expect(file.byteLength).toBe(lv.bytes)
      expect(Buffer.compare(file.subarray(0, lv.end), cs.subarray(0, lv.end))).toBe(0)
    }
  })
})

describe('leaf grouping rule', () => {
  it('groups leading levels whose prefix is <= groupBytes into the first leaf', async () => {
    const cs = await encodeHTJ2K(gradient(512, 512, 12), { decompositions: 5 })
    const layout = parseCodestream(cs)
    for (const group of [0, 600, DEFAULT_GROUP_BYTES, 50000, MAX_BLOCK_BYTES]) {
      const { ends, leafCountForLevel } = leafBoundaries(layout, group)
      const grouped = layout.levels.filter(l => l.end <= group).length
      const first = Math.max(1, grouped) // level 0 is always in the first leaf
      expect(ends[0]).toBe(layout.levels[first - 1].end)
      expect(leafCountForLevel.slice(0, first)).toEqual(new Array(first).fill(1))
      expect(leafCountForLevel[layout.levels.length - 1]).toBe(ends.length)
    }
    expect(() => leafBoundaries(layout, -1)).toThrow(RangeError)
  })

  it('the EOC leaf is the shared raw FF D9 block', async () => {
    const eoc = await eocBlock()
    expect([...eoc.bytes]).toEqual([0xff, 0xd9])
    expect(eoc.cid.toString()).toBe(EOC_CID)
  })
})

describe('level file trees', () => {
  it('one node up to 1024 links, a balanced tree above, same bytes either way', async () => {
    const leaves: Block[] = []
    for (let i = 0; i < 2500; i++) leaves.push(await (async () => {
      const bytes = Uint8Array.of(i & 255, i >> 8, 7)
      return { cid: (await import('multiformats/cid')).CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
    })())
    const eoc = await eocBlock()
    const all = [...leaves, eoc]
    const map = blockMap(all)
    const small = await buildLevelFile(all.slice(-MAX_LINKS).map(b => ({ cid: b.cid, size: b.bytes.byteLength })))
    expect(small.nodes).toHaveLength(1)
    const big = await buildLevelFile(all.map(b => ({ cid: b.cid, size: b.bytes.byteLength })))
    expect(big.nodes).toHaveLength(4) // 3 intermediate nodes (1024 + 1024 + 453 links) + top
    for (const n of big.nodes) {
      map.set(n.cid.toString(), n.bytes)
      expect(dagPb.decode(n.bytes).Links.length).toBeLessThanOrEqual(MAX_LINKS)
    }
    const back = await catUnixfs(big.root, map)
    expect(Buffer.compare(back, concat(all.map(b => b.bytes)))).toBe(0)
    expect(big.size).toBe(back.byteLength)
  })
})

describe.skipIf(OPJ_DECOMPRESS === undefined)('OpenJPEG decodes every level file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mist-opj-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** Samples of a binary PGM written by opj_decompress (8-bit, or 16-bit big-endian). */
  function readPgm (bytes: Uint8Array): { width: number, height: number, data: number[] } {
    let p = 0
    const tokens: string[] = []
    while (tokens.length < 4) {
      while (bytes[p] === 0x20 || bytes[p] === 0x0a || bytes[p] === 0x0d || bytes[p] === 0x09) p++
      if (bytes[p] === 0x23) { while (bytes[p] !== 0x0a) p++; continue }
      let t = ''
      while (bytes[p] > 0x20) t += String.fromCharCode(bytes[p++])
      tokens.push(t)
    }
    p++
    const [magic, w, h, max] = tokens
    expect(magic).toBe('P5')
    const width = Number(w)
    const height = Number(h)
    const data: number[] = []
    for (let i = 0; i < width * height; i++) data.push(Number(max) > 255 ? (bytes[p + 2 * i] << 8) | bytes[p + 2 * i + 1] : bytes[p + i])
    return { width, height, data }
  }

  const cases: Array<{ name: string, image: RasterImage, d: number }> = [
    { name: 'gradient 300x200 12-bit', image: gradient(300, 200, 12), d: 5 },
    { name: 'noise 200x130 8-bit', image: { width: 200, height: 130, components: 1, bitsStored: 8, signed: false, data: Uint8Array.from(noise(200 * 130, 8, 9)) }, d: 3 }
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const cs = await encodeHTJ2K(c.image, { decompositions: c.d })
      // groupBytes 0: every level its own leaf, so each level file is exactly prefix + EOC
      for (const groupBytes of [0, DEFAULT_GROUP_BYTES]) {
        const dag = await buildImageDag(cs, c.image, { sourceFormat: 'synthetic' }, { groupBytes })
        const map = blockMap(dag.blocks)
        const root = decodeImageRoot(map.get(dag.root.toString())!, dag.root)
        for (const lv of root.levels) {
          const file = await catUnixfs(lv.file, map)
          const path = join(dir, `l${lv.level}.j2k`)
          writeFileSync(path, file)
          const out = join(dir, `l${lv.level}.pgm`)
          execFileSync(OPJ_DECOMPRESS!, ['-i', path, '-o', out, '-r', String(root.codestream.decompositions - lv.level)], { stdio: 'pipe' })
          const opj = readPgm(readFileSync(out))
          const prefix = concat([cs.subarray(0, lv.end), Uint8Array.of(0xff, 0xd9)])
          const ref = await decodeHTJ2K(prefix, { reduce: root.codestream.decompositions - lv.level })
          expect([opj.width, opj.height]).toEqual([lv.width, lv.height])
          expect([ref.width, ref.height]).toEqual([lv.width, lv.height])
          // OpenJPEG clips its output to the SIZ bit depth; a reduced level is the raw 5/3 LL band, which
          // can overshoot that range a little (e.g. 4341 in a 12-bit image). Compare after the same clip.
          const max = 2 ** c.image.bitsStored - 1
          const clipped = Float64Array.from(ref.data, v => Math.min(max, Math.max(0, v)))
          expect(Buffer.compare(Buffer.from(Float64Array.from(opj.data).buffer), Buffer.from(clipped.buffer))).toBe(0)
        }
      }
    })
  }
})
