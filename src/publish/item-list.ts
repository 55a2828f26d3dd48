/**
 * The items of a publish, packed: an archive's publish keeps one record per entry until the
 * dataset index is built, and as objects (a CID, its digest views, a level array) a record costs
 * kilobytes of heap; here it is its two strings (shared with the input list), the root's bytes
 * and a few numbers in typed arrays.
 */
import { CID } from 'multiformats/cid'
import type { LevelTarget } from '../chunker/level-dirs.js'
import type { ValueMapping } from '../types.js'
import type { LevelSummary, PublishedItem } from './publish.js'

const NO_FILES = 0xffffffff
// per item in `meta`: flags, images, files, first level, level count, root offset, root length, unit, level files' offset, their length
const FIELDS = 10
// per level in `levels`: width, height, bytes, the level file's cumulative size
const PER_LEVEL = 4
const VOLUME = 1
const LOSSY = 2

/** Grows a typed array by doubling, keeping its contents. */
function grow<T extends Uint32Array | Float64Array | Uint8Array> (a: T, need: number): T {
  if (need <= a.length) return a
  let size = Math.max(a.length, 16)
  while (size < need) size *= 2
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a)
  return b
}

export class PublishedItemList implements Iterable<PublishedItem> {
  private paths: string[] = []
  private names: string[] = []
  private meta = new Uint32Array(16 * FIELDS)
  /** PER_LEVEL numbers for each level, level 0 first. */
  private levels = new Float64Array(64)
  private levelsUsed = 0
  private roots = new Uint8Array(1024)
  private rootsUsed = 0
  /** The level files' CIDs of each item with them, one after another (a CID's bytes say its length). */
  private files = new Uint8Array(1024)
  private filesUsed = 0
  private readonly mappings = new Map<number, ValueMapping>()
  /** Reading order: by unit, then as pushed; null until sealed. */
  private order: Uint32Array | null = null
  private removed = new Set<number>()

  /** Items pushed (removed ones included until sealed). */
  get size (): number { return this.paths.length }

  /** Items to read: after seal(), those not removed. */
  get length (): number { return this.order?.length ?? this.paths.length - this.removed.size }

  /** Stores `item` as part of input unit `unit` (items are read back ordered by unit). */
  push (item: PublishedItem, unit = 0): number {
    if (this.order !== null) throw new Error('PublishedItemList: sealed')
    item.levels.forEach((l, k) => { if (l.level !== k) throw new RangeError(`${item.name}: level ${l.level} listed at position ${k}`) })
    const files = item.levelFiles ?? []
    if (files.length !== 0 && files.length !== item.levels.length) throw new RangeError(`${item.name}: ${files.length} level files for ${item.levels.length} levels`)
    const i = this.paths.length
    this.paths.push(item.path)
    this.names.push(item.name)
    const rootBytes = item.root.bytes
    this.roots = grow(this.roots, this.rootsUsed + rootBytes.byteLength)
    this.roots.set(rootBytes, this.rootsUsed)
    this.levels = grow(this.levels, (this.levelsUsed + item.levels.length) * PER_LEVEL)
    item.levels.forEach((l, k) => this.levels.set([l.width, l.height, l.bytes, files[k]?.tsize ?? 0], (this.levelsUsed + k) * PER_LEVEL))
    const filesAt = this.filesUsed
    for (const f of files) {
      this.files = grow(this.files, this.filesUsed + f.cid.bytes.byteLength)
      this.files.set(f.cid.bytes, this.filesUsed)
      this.filesUsed += f.cid.bytes.byteLength
    }
    this.meta = grow(this.meta, (i + 1) * FIELDS)
    this.meta.set([
      (item.kind === 'volume' ? VOLUME : 0) | (item.lossySource === true ? LOSSY : 0),
      item.images,
      item.files ?? NO_FILES,
      this.levelsUsed,
      item.levels.length,
      this.rootsUsed,
      rootBytes.byteLength,
      unit,
      filesAt,
      this.filesUsed - filesAt
    ], i * FIELDS)
    this.levelsUsed += item.levels.length
    this.rootsUsed += rootBytes.byteLength
    if (item.valueMapping != null) this.mappings.set(i, item.valueMapping)
    return i
  }

  /** Name and path of item `i` in push order (before sealing: to check them). */
  pushed (i: number): { name: string, path: string } { return { name: this.names[i], path: this.paths[i] } }

  /** Leaves item `i` (a push's return) out of what is read once sealed. */
  remove (i: number): void { this.removed.add(i) }

  /** Fixes the reading order: by unit, items of one unit as pushed; removed items dropped. */
  seal (): void {
    if (this.order !== null) return
    const keep: number[] = []
    for (let i = 0; i < this.paths.length; i++) if (!this.removed.has(i)) keep.push(i)
    const order = Uint32Array.from(keep)
    const m = this.meta
    // a stable sort: ties keep push order
    order.sort((a, b) => (m[a * FIELDS + 7] - m[b * FIELDS + 7]) || a - b)
    this.order = order
    this.removed = new Set()
  }

  /** The pushed index of the k-th item in reading order. */
  private index (k: number): number {
    if (this.order === null) this.seal()
    return this.order![k]
  }

  name (k: number): string { return this.names[this.index(k)] }
  path (k: number): string { return this.paths[this.index(k)] }
  kind (k: number): 'image' | 'volume' { return (this.meta[this.index(k) * FIELDS] & VOLUME) !== 0 ? 'volume' : 'image' }
  images (k: number): number { return this.meta[this.index(k) * FIELDS + 1] }
  levelCount (k: number): number { return this.meta[this.index(k) * FIELDS + 4] }

  root (k: number): CID {
    const at = this.index(k) * FIELDS
    const start = this.meta[at + 5]
    // a view: the list is sealed, its buffers no longer change (a copy per read was a native allocation each)
    return CID.decode(this.roots.subarray(start, start + this.meta[at + 6]))
  }

  levelList (k: number): LevelSummary[] {
    const at = this.index(k) * FIELDS
    const first = this.meta[at + 3]
    const out: LevelSummary[] = []
    for (let j = 0; j < this.meta[at + 4]; j++) {
      const o = (first + j) * PER_LEVEL
      out.push({ level: j, width: this.levels[o], height: this.levels[o + 1], bytes: this.levels[o + 2] })
    }
    return out
  }

  /** The level files of the k-th item (images published by this release), or undefined. */
  levelFiles (k: number): LevelTarget[] | undefined {
    const at = this.index(k) * FIELDS
    const length = this.meta[at + 9]
    if (length === 0) return undefined
    const out: LevelTarget[] = []
    let rest = this.files.subarray(this.meta[at + 8], this.meta[at + 8] + length)
    for (let j = 0; rest.byteLength > 0; j++) {
      const [cid, after] = CID.decodeFirst(rest)
      out.push({ cid, tsize: this.levels[(this.meta[at + 3] + j) * PER_LEVEL + 3] })
      rest = rest.subarray(rest.byteLength - after.byteLength)
    }
    return out
  }

  /** The k-th item in reading order, as a fresh object. */
  at (k: number): PublishedItem {
    const i = this.index(k)
    const m = this.meta
    const item: PublishedItem = { path: this.paths[i], name: this.names[i], kind: this.kind(k), root: this.root(k), images: m[i * FIELDS + 1], levels: this.levelList(k) }
    if (m[i * FIELDS + 2] !== NO_FILES) item.files = m[i * FIELDS + 2]
    const mapping = this.mappings.get(i)
    if (mapping != null) item.valueMapping = mapping
    if ((m[i * FIELDS] & LOSSY) !== 0) item.lossySource = true
    const files = this.levelFiles(k)
    if (files !== undefined) item.levelFiles = files
    return item
  }

  * [Symbol.iterator] (): Iterator<PublishedItem> {
    for (let k = 0; k < this.length; k++) yield this.at(k)
  }
}
