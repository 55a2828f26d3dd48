import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import {
  FANOUT, MAX_BLOCK_BYTES, MAX_NAME_BYTES, buildDatasetDag, buildSortedDatasetDag, compareNames, datasetEntries, decodeDatasetRoot, lookupDatasetEntry, rootKind, type LevelSummary
} from '../../src/chunker/index.js'

function cidFor (i: number): CID {
  return CID.createV1(dagCbor.code, sha256.digest(dagCbor.encode({ i })) as any)
}

/** Entry i: images have 4..6 levels, every 10th entry is a volume. */
function levelsFor (i: number): LevelSummary[] {
  const n = 4 + (i % 3)
  return Array.from({ length: n }, (_, k) => ({ level: k, width: 16 << k, height: 16 << k, bytes: 100 * 4 ** k + (i % 11) }))
}

function entriesOf (n: number, name: (i: number) => string): Array<{ name: string, root: CID, kind: 'image' | 'volume', levels: LevelSummary[] }> {
  // shuffled input order: the build must sort
  const out = Array.from({ length: n }, (_, i) => ({ name: name(i), root: cidFor(i), kind: (i % 10 === 0 ? 'volume' : 'image') as 'image' | 'volume', levels: levelsFor(i) }))
  for (let i = out.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

function storeOf (blocks: Array<{ cid: CID, bytes: Uint8Array }>): { get: (cid: CID) => Promise<Uint8Array>, reads: () => number } {
  const map = new Map(blocks.map(b => [b.cid.toString(), b.bytes]))
  let reads = 0
  return {
    get: async (cid: CID) => { reads++; const b = map.get(cid.toString()); if (b === undefined) throw new Error(`missing ${cid}`); return b },
    reads: () => reads
  }
}

describe('dataset index', () => {
  it('100,000 entries: blocks <= 1 MiB, all names in order, lookup in O(log n) blocks, totals', async () => {
    const n = 100_000
    const entries = entriesOf(n, i => `patient-${String(i % 997).padStart(4, '0')}/study-${i % 5}/img-${String(i).padStart(6, '0')}.dcm`)
    const t0 = performance.now()
    const dag = await buildDatasetDag(entries)
    const ms = performance.now() - t0
    const sizes = dag.blocks.map(b => b.bytes.byteLength)
    for (const s of sizes) expect(s).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
    const rootBytes = dag.blocks.find(b => b.cid.equals(dag.root))!.bytes
    console.log(`dataset 100,000 entries: build ${ms.toFixed(0)} ms, ${dag.blocks.length} blocks, largest ${Math.max(...sizes)} B, root ${rootBytes.byteLength} B`)
    expect(rootKind(rootBytes)).toBe('dataset')
    const root = decodeDatasetRoot(rootBytes, dag.root)
    expect(root.count).toBe(n)

    const store = storeOf(dag.blocks)
    const names: string[] = []
    for await (const e of datasetEntries(root, store.get)) names.push(e.name)
    const expected = entries.map(e => e.name).sort(compareNames)
    expect(names.length).toBe(n)
    expect(names.every((x, i) => x === expected[i])).toBe(true)

    for (const i of [0, 1, 511, 512, 4242, 99_999]) {
      const before = store.reads()
      const e = entries.find(x => x.root.equals(cidFor(i)))!
      const found = await lookupDatasetEntry(root, e.name, store.get)
      expect(found?.root.equals(e.root)).toBe(true)
      expect(found?.kind).toBe(e.kind)
      expect(store.reads() - before).toBe(1) // 100,000 / 512 -> 196 leaves under the root: one read
    }
    expect(await lookupDatasetEntry(root, 'nope', store.get)).toBeUndefined()
    expect(await lookupDatasetEntry(root, 'patient-0000/study-0/img-000000.dcn', store.get)).toBeUndefined()
    expect(await lookupDatasetEntry(root, '~after-all', store.get)).toBeUndefined()

    // totals: level k costs sum over entries of min(k, finest)
    const depth = 6
    expect(root.levels).toHaveLength(depth)
    for (let k = 0; k < depth; k++) {
      let bytes = 0
      let images = 0
      for (const e of entries) { bytes += e.levels[Math.min(k, e.levels.length - 1)].bytes; if (e.levels.length > k) images++ }
      expect(root.levels[k]).toEqual({ level: k, bytes, images })
    }
    expect(root.total).toBe(entries.reduce((a, e) => a + e.levels[e.levels.length - 1].bytes, 0))
  })

  it('worst-case names (1024 bytes): a full node stays under 1 MiB', async () => {
    const pad = 'x'.repeat(MAX_NAME_BYTES)
    const entries = entriesOf(2 * FANOUT, i => `${String(i).padStart(12, '0')}/${pad}`.slice(0, MAX_NAME_BYTES))
    const dag = await buildDatasetDag(entries)
    const largest = dag.blocks.reduce((a, b) => Math.max(a, b.bytes.byteLength), 0)
    expect(dag.blocks).toHaveLength(3) // two full leaves of 512 entries + root
    expect(largest).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
    console.log(`a leaf of ${FANOUT} entries with ${MAX_NAME_BYTES}-byte names: ${largest} B`)
  })

  it('three-level tree: lookups read one block per level', async () => {
    const n = FANOUT * FANOUT + 3 // root over internal nodes over leaves
    const entries = entriesOf(n, i => `s/${String(i).padStart(7, '0')}`)
    const dag = await buildDatasetDag(entries)
    const largest = dag.blocks.reduce((a, b) => Math.max(a, b.bytes.byteLength), 0)
    expect(largest).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
    const store = storeOf(dag.blocks)
    const root = decodeDatasetRoot(dag.blocks.find(b => b.cid.equals(dag.root))!.bytes, dag.root)
    expect(root.children).toBeDefined()
    for (const target of [entries[0], entries[12345], entries[n - 1]]) {
      const before = store.reads()
      expect((await lookupDatasetEntry(root, target.name, store.get))?.root.equals(target.root)).toBe(true)
      expect(store.reads() - before).toBe(2)
    }
    let count = 0
    let last = ''
    for await (const e of datasetEntries(root, store.get)) { expect(compareNames(last, e.name)).toBeLessThan(0); last = e.name; count++ }
    expect(count).toBe(n)
  })

  it('same entries in any order give the same root; small datasets are one block', async () => {
    const a = entriesOf(50, i => `a/${i}.png`)
    const d1 = await buildDatasetDag(a)
    const d2 = await buildDatasetDag([...a].reverse())
    expect(d1.root.equals(d2.root)).toBe(true)
    expect(d1.blocks).toHaveLength(1)
  })

  it('refuses bad names, duplicates and bad roots', async () => {
    const one = (name: string): any => [{ name, root: cidFor(1), kind: 'image', levels: levelsFor(1) }]
    for (const name of ['', '/abs.png', 'a/../b', './a', 'a//b', 'a\\b', 'x'.repeat(1025), 'nul\u0000']) {
      await expect(buildDatasetDag(one(name))).rejects.toMatchObject({ name: 'FormatError' })
    }
    await expect(buildDatasetDag([...one('a.png'), ...one('a.png')])).rejects.toThrow(/two entries named a.png/)
    const good = dagCbor.decode((await buildDatasetDag(entriesOf(5, i => `f${i}`))).blocks[0].bytes) as any
    const bad = (f: (n: any) => void): Error => {
      const n = { ...good, levels: good.levels.map((l: any) => ({ ...l })), entries: good.entries.map((e: any) => ({ ...e })) }
      f(n)
      const bytes = dagCbor.encode(n)
      try { decodeDatasetRoot(bytes, CID.createV1(dagCbor.code, sha256.digest(bytes) as any)) } catch (err) { return err as Error }
      throw new Error('accepted')
    }
    for (const [f, re] of [
      [(n: any) => { n.count = 6 }, /count is 6|levels\[0\]\.images/],
      [(n: any) => { n.entries.reverse() }, /sorted and unique/],
      [(n: any) => { n.entries[0].name = '../etc/passwd' }, /segment/],
      [(n: any) => { n.entries[0].kind = 'dataset' }, /kind must be/],
      [(n: any) => { n.total += 1 }, /total differs/],
      [(n: any) => { n.children = [] }, /exactly one of entries or children/],
      [(n: any) => { n.levels[1].bytes = 0 }, /inconsistent/]
    ] as const) {
      const err = bad(f)
      expect(err.name).toBe('FormatError')
      expect(err.message).toMatch(re)
    }
  })
})

describe('streaming build (buildSortedDatasetDag)', () => {
  // roots made by the release before the streaming build (entries d<i%7>/<i>.png, cidFor, levelsFor; v2 with level directories cidFor(1e6 + k))
  const known: Array<[number, string, number, string]> = [
    [1, 'bafyreic5bkievhaxr5rn6mlv7brbpq7xlxlio3abxngpkeda2ulwuupimq', 1, 'bafyreif6r4hvmjl3gisibwxekc2ytua4fiu3z2evgf6jxrovyn7lrc3ywi'],
    [512, 'bafyreigxm6kpqwxlu5y6xb5saybyft5aocj5ergzp5svk6mrzpg44w4fdu', 1, 'bafyreiemlzp3qnzaepfislzf2v7p33llzlcobro7nwfnaqquhrk575vxf4'],
    [513, 'bafyreiazet373nenv3ni7xscy5pxm56vi7cyrpjbogduq3nnm2j4x2soxe', 3, 'bafyreibhqmins6f72crdc6qntirof4fhu544k4j5cohzb7w2odny5ra2da'],
    [1500, 'bafyreic5cq4h43k7h6ulgfcf3f6thqlj3tgoprkz4rjtl3eicyiw5hnyjy', 4, 'bafyreigg6l7a262oihpwhyi2dnfk4s6j4mjmncveplhskuincyqxrf3wry']
  ]
  const entriesN = (n: number): Array<{ name: string, root: CID, kind: 'image' | 'volume', levels: LevelSummary[] }> =>
    Array.from({ length: n }, (_, i) => ({ name: `d${i % 7}/${String(i).padStart(7, '0')}.png`, root: cidFor(i), kind: (i % 10 === 0 ? 'volume' : 'image') as 'image' | 'volume', levels: levelsFor(i) }))
  const dirsFor = (k: number): CID[] => Array.from({ length: k }, (_, j) => cidFor(1e6 + j))

  it('gives the roots and blocks of earlier releases, entries read once and one at a time', async () => {
    for (const [n, v1, blocks, v2] of known) {
      const entries = entriesN(n)
      const whole = await buildDatasetDag(entries)
      expect([whole.root.toString(), whole.blocks.length]).toEqual([v1, blocks])
      const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name))
      let reads = 0
      const once = function * (): Generator<typeof sorted[number]> { for (const e of sorted) { reads++; yield e } }
      const put: Array<{ cid: CID, bytes: Uint8Array }> = []
      const streamed = await buildSortedDatasetDag(n, once(), { dirs: dirsFor(entries.reduce((d, e) => Math.max(d, e.levels.length), 0)), put: async b => { put.push(b) } })
      expect(reads).toBe(n)
      expect(streamed.root.toString()).toBe(v2)
      expect(streamed.blocks).toEqual([])
      expect(put).toHaveLength(blocks)
      expect(put[put.length - 1].cid.equals(streamed.root)).toBe(true)
      const collected = await buildSortedDatasetDag(n, sorted)
      expect(collected.root.toString()).toBe(v1)
      expect(collected.blocks.map(b => b.cid.toString()).sort()).toEqual(whole.blocks.map(b => b.cid.toString()).sort())
    }
  })

  it('refuses entries out of order, duplicates, and a count that is not the entries', async () => {
    const sorted = entriesN(600).sort((a, b) => compareNames(a.name, b.name))
    const swapped = [...sorted]
    ;[swapped[10], swapped[11]] = [swapped[11], swapped[10]]
    await expect(buildSortedDatasetDag(600, swapped)).rejects.toThrow(/not in name order/)
    await expect(buildSortedDatasetDag(601, [...sorted.slice(0, 301), sorted[300], ...sorted.slice(301)])).rejects.toThrow(/two entries named/)
    await expect(buildSortedDatasetDag(599, sorted)).rejects.toThrow(/more than the 599 entries/)
    await expect(buildSortedDatasetDag(601, sorted)).rejects.toThrow(/600 entries, not the 601/)
    await expect(buildSortedDatasetDag(0, [])).rejects.toMatchObject({ name: 'FormatError' })
  })
})

describe('name order', () => {
  it('compareNames is UTF-8 byte order, also around surrogates', () => {
    const names = ['a', 'b', 'ab', '\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', 'Z', 'é', '~', '\u0080']
    const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect([...names].sort(compareNames)).toEqual(byBytes)
  })
  it('a dataset with non-ASCII names is stored in UTF-8 byte order and looked up', async () => {
    const names = ['a/\uFFFD.png', 'a/\u{1F600}.png', 'a/é.png', 'a/z.png', 'a/\uE000.png']
    const entries = names.map((name, i) => ({ name, root: cidFor(i), kind: 'image' as const, levels: levelsFor(i) }))
    const dag = await buildDatasetDag(entries)
    const root = decodeDatasetRoot(dag.blocks[0].bytes, dag.root)
    expect(root.entries!.map(e => e.name)).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))))
    for (const e of entries) expect((await lookupDatasetEntry(root, e.name, async () => { throw new Error('one block') }))?.root.equals(e.root)).toBe(true)
  })
  it('refuses lone surrogates', async () => {
    await expect(buildDatasetDag([{ name: 'a\uD800', root: cidFor(1), kind: 'image', levels: levelsFor(1) }])).rejects.toThrow(/lone surrogate/)
  })
})
