/**
 * The dataset root: relative POSIX paths -> image or volume roots, as a
 * deterministic, sorted B-tree of dag-cbor nodes, with per-level byte totals.
 *
 * - Entries are sorted by the UTF-8 bytes of their names (locale-free) and
 *   names are unique.
 * - Leaf nodes hold at most FANOUT entries, internal nodes at most FANOUT
 *   children `{ first, cid, count }`. The tree is built bottom up: n items are
 *   cut into ceil(n / FANOUT) consecutive groups of near-equal size (the first
 *   n % groups groups one larger). The same names and roots always give the
 *   same tree, whatever the input order.
 * - The top node is inlined in the root, so a dataset of <= FANOUT entries is
 *   one block and lookups cost ceil(log_FANOUT n) - 1 further blocks.
 * - Names are at most MAX_NAME_BYTES UTF-8 bytes: a node is then at most about
 *   FANOUT x (1024 + 60) bytes = 555 KB < 1 MiB.
 */
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { FormatError } from '../errors.js'
import type { Block } from '../types.js'
import { BlockSet, cborBlock } from './block.js'
import { Checker, openNode } from './check.js'
import { MAX_DECOMPOSITIONS } from '../j2k/index.js'
import { DATASET_VERSIONS, FORMAT_VERSION, NODE_VERSION, type LevelSummary } from './format.js'

/** Most entries in a leaf node / children in an internal node. */
export const FANOUT = 512
/** Longest entry name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 1024
/** Deepest tree accepted when reading (512^8 entries is far beyond any dataset). */
export const MAX_DEPTH = 8

/** One named entry of a dataset. */
export interface DatasetEntry { name: string, root: CID, kind: 'image' | 'volume' }

/** A link from an internal node to a child node. */
export interface DatasetChild { first: string, cid: CID, count: number }

/** Per-level totals: what fetching the whole dataset at level k costs. */
export interface DatasetLevel {
  level: number
  /** Sum over entries of the bytes of level min(k, their finest level). */
  bytes: number
  /** Entries that have level k (the others are fetched at their finest level). */
  images: number
  /** Version 2: the UnixFS directory of the dataset at level k (dag-pb; see dataset-dirs.ts). */
  dir?: CID
}

/** A node of the tree: exactly one of entries (leaf) or children (internal). */
export interface DatasetNode { entries?: DatasetEntry[], children?: DatasetChild[] }

/** A decoded, validated dataset root. */
export interface DatasetRoot extends DatasetNode {
  mist: 'dataset'
  /** 1: no level directories; 2: `levels[k].dir` on every level. */
  version: 1 | 2
  /** Number of entries. */
  count: number
  levels: DatasetLevel[]
  /** Bytes of every entry at its finest level. */
  total: number
}

const utf8 = new TextEncoder()

/**
 * Byte-wise UTF-8 order of two names (= Unicode code point order), computed on
 * the UTF-16 strings: code units are remapped so that surrogates (U+D800..DFFF,
 * which encode code points above U+FFFF) sort after U+E000..FFFF.
 */
export function compareNames (a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x !== y) {
      x += x >= 0xd800 && x <= 0xdfff ? 0x2000 : x >= 0xe000 ? -0x800 : 0
      y += y >= 0xd800 && y <= 0xdfff ? 0x2000 : y >= 0xe000 ? -0x800 : 0
      return x - y
    }
  }
  return a.length - b.length
}

/** compareNames, or the native string comparison when it gives the same order for every one of `names` (and is ~3x faster). */
export function nameOrder (names: string[]): (a: string, b: string) => number {
  // without code units >= U+D800, UTF-16 order is UTF-8 byte order
  const plain = names.every(n => !/[\uD800-\uFFFF]/.test(n))
  return plain ? (a, b) => (a < b ? -1 : a > b ? 1 : 0) : compareNames
}

/** C0 and C1 control characters, DEL. */
export const CONTROL_CHARACTERS = /[\x00-\x1f\x7f-\x9f]/
/** Bidirectional marks, embeddings, overrides and isolates: they make a name display as another (e.g. `gpj.exe` shown as `exe.jpg`). */
export const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

/** Why `name` is not a valid entry name, or undefined if it is. Checked when a dataset is built and when its root or index nodes are read. */
export function invalidName (name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'name must be a non-empty string'
  if (name.length > MAX_NAME_BYTES || (name.length * 3 > MAX_NAME_BYTES && utf8.encode(name).byteLength > MAX_NAME_BYTES)) return `name is longer than ${MAX_NAME_BYTES} UTF-8 bytes`
  if (CONTROL_CHARACTERS.test(name)) return 'name contains a control character'
  if (name.includes('\\')) return 'name contains a backslash'
  if (BIDI_CONTROLS.test(name)) return 'name contains a bidirectional-override character'
  if (/\p{Cs}/u.test(name)) return 'name is not well-formed Unicode (lone surrogate)'
  if (name.startsWith('/')) return 'name must be a relative path'
  if (name.split('/').some(s => s === '' || s === '.' || s === '..')) return 'name has an empty, "." or ".." segment'
  return undefined
}

/** Cut `items` into ceil(n / FANOUT) consecutive groups of near-equal size. */
function groups<T> (items: T[]): T[][] {
  const count = Math.ceil(items.length / FANOUT)
  const base = Math.floor(items.length / count)
  const extra = items.length % count
  const out: T[][] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const size = base + (i < extra ? 1 : 0)
    out.push(items.slice(at, at + size))
    at += size
  }
  return out
}

/** Per-level totals over entries (see DatasetLevel). */
export function datasetLevels (entries: Array<{ levels: LevelSummary[] }>): { levels: DatasetLevel[], total: number } {
  const depth = entries.reduce((a, e) => Math.max(a, e.levels.length), 0)
  const levels: DatasetLevel[] = []
  for (let k = 0; k < depth; k++) {
    let bytes = 0
    let images = 0
    for (const e of entries) {
      const finest = e.levels.length - 1
      bytes += e.levels[Math.min(k, finest)].bytes
      if (finest >= k) images++
    }
    levels.push({ level: k, bytes, images })
  }
  return { levels, total: levels[depth - 1].bytes }
}

type EntryWithLevels = DatasetEntry & { levels: LevelSummary[] }

function checkEntry (e: EntryWithLevels): void {
  const why = invalidName(e.name)
  if (why !== undefined) throw new FormatError(`dataset entry ${JSON.stringify(e.name)}: ${why}`)
  if (e.kind !== 'image' && e.kind !== 'volume') throw new FormatError(`dataset entry ${e.name}: kind must be image or volume`)
  if (e.levels.length === 0 || e.levels.length > MAX_DECOMPOSITIONS + 1 || e.levels.some((l, k) => l.level !== k)) {
    throw new FormatError(`dataset entry ${e.name}: levels must be listed 0, 1, ... (1..${MAX_DECOMPOSITIONS + 1} of them)`)
  }
}

/**
 * Build the dataset root and its index nodes. Throws FormatError on invalid or duplicate names.
 * With `dirs` (one UnixFS directory per level, from buildDatasetDirectories) the root is a
 * version-2 root that links them; without, a version-1 root (what earlier releases wrote).
 */
export async function buildDatasetDag (
  entries: EntryWithLevels[],
  options: { dirs?: CID[] } = {}
): Promise<{ root: CID, blocks: Block[] }> {
  if (entries.length === 0) throw new FormatError('a dataset needs at least one entry')
  for (const e of entries) checkEntry(e)
  const order = nameOrder(entries.map(e => e.name))
  const sorted = [...entries].sort((a, b) => order(a.name, b.name))
  return await buildSortedDatasetDag(sorted.length, sorted, options)
}

/**
 * buildDatasetDag over `count` entries already in name order, read once, one at a time: an
 * archive's index is built without its entries ever being held together. Leaf nodes are
 * encoded as they fill (their sizes follow from `count` alone); with `put` every block goes
 * there as it is made and `blocks` is empty. Throws FormatError on an invalid, duplicate or
 * out-of-order name, or when the entries are not `count`.
 */
export async function buildSortedDatasetDag (
  count: number,
  entries: Iterable<EntryWithLevels> | AsyncIterable<EntryWithLevels>,
  options: { dirs?: CID[], put?: (block: Block) => Promise<void>, signal?: AbortSignal } = {}
): Promise<{ root: CID, blocks: Block[] }> {
  if (count === 0) throw new FormatError('a dataset needs at least one entry')
  const blocks = new BlockSet()
  const emit = async (value: unknown, what: string): Promise<CID> => {
    const b = await cborBlock(value, what)
    if (options.put !== undefined) await options.put(b)
    else blocks.add(b)
    return b.cid
  }
  const leafCount = Math.ceil(count / FANOUT)
  const base = Math.floor(count / leafCount)
  const extra = count % leafCount
  let layer: DatasetNode[] = []
  let children: DatasetChild[] = []
  let leaf: DatasetEntry[] = []
  // per-level totals without knowing the depth yet: sums of level k over the entries that have
  // it, and of the finest level's bytes over entries with exactly L levels (they count at k >= L)
  const has: Array<{ bytes: number, images: number }> = []
  const finestOf: number[] = []
  let prev: string | undefined
  let seen = 0
  for await (const e of entries) {
    if (seen % 4096 === 0) options.signal?.throwIfAborted()
    checkEntry(e)
    if (prev !== undefined) {
      const c = compareNames(prev, e.name)
      if (c === 0) throw new FormatError(`dataset has two entries named ${e.name}`)
      if (c > 0) throw new FormatError(`dataset entries are not in name order: ${JSON.stringify(e.name)} after ${JSON.stringify(prev)}`)
    }
    prev = e.name
    if (++seen > count) throw new FormatError(`dataset has more than the ${count} entries it was built for`)
    e.levels.forEach((l, k) => {
      has[k] ??= { bytes: 0, images: 0 }
      has[k].bytes += l.bytes
      has[k].images++
    })
    finestOf[e.levels.length] = (finestOf[e.levels.length] ?? 0) + e.levels[e.levels.length - 1].bytes
    leaf.push({ name: e.name, root: e.root, kind: e.kind })
    const size = base + (layer.length + children.length < extra ? 1 : 0)
    if (leaf.length === size) {
      if (leafCount === 1) layer.push({ entries: leaf })
      else children.push({ first: leaf[0].name, cid: await emit({ mist: 'index', version: NODE_VERSION, entries: leaf }, 'dataset index node'), count: leaf.length })
      leaf = []
    }
  }
  if (seen !== count) throw new FormatError(`dataset has ${seen} entries, not the ${count} it was built for`)
  if (leafCount > 1) layer = groups(children).map(g => ({ children: g }))
  let counts = layer.map(n => n.children?.reduce((a, c) => a + c.count, 0) ?? 0)
  let firsts = layer.map(n => n.children?.[0].first ?? '')
  while (layer.length > 1) {
    children = []
    for (const [i, node] of layer.entries()) children.push({ first: firsts[i], cid: await emit({ mist: 'index', version: NODE_VERSION, ...node }, 'dataset index node'), count: counts[i] })
    layer = groups(children).map(g => ({ children: g }))
    counts = layer.map(n => n.children!.reduce((a, c) => a + c.count, 0))
    firsts = layer.map(n => n.children![0].first)
  }
  const levels: DatasetLevel[] = []
  let finestBelow = 0
  for (let k = 0; k < has.length; k++) {
    finestBelow += finestOf[k] ?? 0
    levels.push({ level: k, bytes: has[k].bytes + finestBelow, images: has[k].images })
  }
  const total = levels[levels.length - 1].bytes
  const dirs = options.dirs
  if (dirs !== undefined) {
    if (dirs.length !== levels.length) throw new FormatError(`a dataset of ${levels.length} levels needs ${levels.length} level directories, got ${dirs.length}`)
    levels.forEach((l, k) => { l.dir = dirs[k] })
  }
  const version = dirs !== undefined ? FORMAT_VERSION : 1
  const root = await emit({ mist: 'dataset', version, count, levels, total, ...layer[0] }, 'dataset root')
  return { root, blocks: blocks.toArray() }
}

function checkNode (n: Record<string, unknown>, c: Checker): DatasetNode {
  const kinds = ['image', 'volume'] as const
  if ((n.entries === undefined) === (n.children === undefined)) c.fail('must have exactly one of entries or children')
  let prev: string | undefined
  const ordered = (name: string, field: string): void => {
    if (prev !== undefined && compareNames(prev, name) >= 0) c.fail(`${field} is not after ${JSON.stringify(prev)}: names must be sorted and unique`)
    prev = name
  }
  if (n.entries !== undefined) {
    return {
      entries: c.array(n.entries, 'entries', FANOUT, 1).map((x, i) => {
        const o = c.object(x, `entries[${i}]`)
        const why = invalidName(o.name)
        if (why !== undefined) c.fail(`entries[${i}]: ${why}`)
        ordered(o.name as string, `entries[${i}]`)
        return { name: o.name as string, root: c.cid(o.root, `entries[${i}].root`, dagCbor.code), kind: c.literal(o.kind, `entries[${i}].kind`, ...kinds) }
      })
    }
  }
  return {
    children: c.array(n.children, 'children', FANOUT, 1).map((x, i) => {
      const o = c.object(x, `children[${i}]`)
      const why = invalidName(o.first)
      if (why !== undefined) c.fail(`children[${i}].first: ${why}`)
      ordered(o.first as string, `children[${i}]`)
      return { first: o.first as string, cid: c.cid(o.cid, `children[${i}].cid`, dagCbor.code), count: c.int(o.count, `children[${i}].count`, 1, Number.MAX_SAFE_INTEGER) }
    })
  }
}

function nodeCount (node: DatasetNode): number {
  return node.entries?.length ?? node.children!.reduce((a, ch) => a + ch.count, 0)
}

/** Decode and validate a dataset root; FormatError on anything wrong. */
export function decodeDatasetRoot (bytes: Uint8Array, cid: CID): DatasetRoot {
  const { c, n } = openNode(bytes, cid, 'dataset root', 'dataset', DATASET_VERSIONS)
  const version = n.version as 1 | 2
  const count = c.int(n.count, 'count', 1, Number.MAX_SAFE_INTEGER)
  const levels: DatasetLevel[] = c.array(n.levels, 'levels', MAX_DECOMPOSITIONS + 1, 1).map((x, k) => {
    const o = c.object(x, `levels[${k}]`)
    const level: DatasetLevel = { level: c.int(o.level, `levels[${k}].level`, k, k), bytes: c.int(o.bytes, `levels[${k}].bytes`, 0, Number.MAX_SAFE_INTEGER), images: c.int(o.images, `levels[${k}].images`, 1, count) }
    if (version >= 2) level.dir = c.cid(o.dir, `levels[${k}].dir`, dagPb.code)
    else if (o.dir !== undefined) c.fail(`levels[${k}].dir is not a version-1 field`)
    return level
  })
  for (let k = 1; k < levels.length; k++) {
    if (levels[k].bytes < levels[k - 1].bytes || levels[k].images > levels[k - 1].images) c.fail(`levels[${k}] is inconsistent with levels[${k - 1}]`)
  }
  if (levels[0].images !== count) c.fail(`levels[0].images is ${levels[0].images}, count is ${count}`)
  const total = c.int(n.total, 'total', 0, Number.MAX_SAFE_INTEGER)
  if (total !== levels[levels.length - 1].bytes) c.fail('total differs from the bytes of the finest level')
  const node = checkNode(n, c)
  if (nodeCount(node) !== count) c.fail(`its tree holds ${nodeCount(node)} entries, count is ${count}`)
  return { mist: 'dataset', version, count, levels, total, ...node }
}

/** Decode and validate an index node, checking it holds `count` entries. */
export function decodeIndexNode (bytes: Uint8Array, cid: CID, count: number): DatasetNode {
  const { c, n } = openNode(bytes, cid, 'dataset index node', 'index')
  const node = checkNode(n, c)
  if (nodeCount(node) !== count) c.fail(`holds ${nodeCount(node)} entries, its parent says ${count}`)
  return node
}

/**
 * Every entry in name order, fetching index nodes through `getBlock` (depth first, one node at a
 * time). With `from`, the walk starts at the first entry whose name is >= from, and reads no index
 * node that holds only names before it (a sub-directory of a large dataset costs the nodes on its
 * way, not the whole index).
 */
export async function * datasetEntries (root: DatasetRoot, getBlock: (cid: CID) => Promise<Uint8Array>, options: { from?: string } = {}): AsyncGenerator<DatasetEntry> {
  const from = options.from
  let last: string | undefined
  async function * walk (node: DatasetNode, depth: number, lower: string | undefined): AsyncGenerator<DatasetEntry> {
    if (depth > MAX_DEPTH) throw new FormatError(`dataset index is deeper than ${MAX_DEPTH} levels`)
    if (node.entries !== undefined) {
      for (const e of node.entries) {
        if (last !== undefined && compareNames(last, e.name) >= 0) throw new FormatError(`dataset index is out of order at ${JSON.stringify(e.name)}`)
        if (lower !== undefined && e === node.entries[0] && e.name !== lower) throw new FormatError(`dataset index node starts with ${JSON.stringify(e.name)}, its parent says ${JSON.stringify(lower)}`)
        last = e.name
        if (from !== undefined && compareNames(e.name, from) < 0) continue
        yield e
      }
      return
    }
    const children = node.children!
    for (const [i, ch] of children.entries()) {
      // every name of this child lies before the next child's first name
      if (from !== undefined && i + 1 < children.length && compareNames(children[i + 1].first, from) <= 0) continue
      yield * walk(decodeIndexNode(await getBlock(ch.cid), ch.cid, ch.count), depth + 1, ch.first)
    }
  }
  yield * walk(root, 0, undefined)
}

/** The entry named `name`, or undefined; reads one index node per tree level. */
export async function lookupDatasetEntry (root: DatasetRoot, name: string, getBlock: (cid: CID) => Promise<Uint8Array>): Promise<DatasetEntry | undefined> {
  let node: DatasetNode = root
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) throw new FormatError(`dataset index is deeper than ${MAX_DEPTH} levels`)
    if (node.entries !== undefined) {
      let lo = 0
      let hi = node.entries.length - 1
      while (lo <= hi) {
        const mid = (lo + hi) >> 1
        const cmp = compareNames(node.entries[mid].name, name)
        if (cmp === 0) return node.entries[mid]
        if (cmp < 0) lo = mid + 1
        else hi = mid - 1
      }
      return undefined
    }
    // last child whose first name <= name
    const children: DatasetChild[] = node.children!
    let lo = 0
    let hi = children.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (compareNames(children[mid].first, name) <= 0) { found = mid; lo = mid + 1 } else hi = mid - 1
    }
    if (found < 0) return undefined
    const ch = children[found]
    node = decodeIndexNode(await getBlock(ch.cid), ch.cid, ch.count)
  }
}
