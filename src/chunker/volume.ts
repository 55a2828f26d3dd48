/**
 * The volume root: a 3D volume as a z-ordered list of image roots (one per
 * slice), its technical metadata and per-level byte totals.
 *
 * Up to SLICES_INLINE slice links sit in the root itself. Above that the list
 * is cut into shards of SLICES_PER_SHARD consecutive links, each a dag-cbor node
 * `{ mist: 'slices', version: 1, slices: [CID...] }`, and the root lists the
 * shards with their counts. One shard level suffices: MAX_SHARDS x
 * SLICES_PER_SHARD = 16,777,216 slices, far above any NIfTI-1 volume (32767).
 */
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { FormatError } from '../errors.js'
import type { Block, VolumeMeta } from '../types.js'
import { BlockSet, cborBlock } from './block.js'
import { Checker, openNode } from './check.js'
import { MAX_DECOMPOSITIONS } from '../j2k/index.js'
import { NODE_VERSION, type LevelSummary } from './format.js'
import { normaliseVolumeMeta } from './meta.js'
import { cidKey } from '../util/cid-key.js'

/** Slice links kept in the root before sharding (~170 KB of links). */
export const SLICES_INLINE = 4096
/** Slice links per shard node (~170 KB). */
export const SLICES_PER_SHARD = 4096
/** Most shards a root may list (~220 KB of links). */
export const MAX_SHARDS = 4096

/** A shard of the slice list. */
export interface SliceShard { cid: CID, count: number }

/** A decoded, validated volume root. */
export interface VolumeRoot {
  mist: 'volume'
  version: 1
  meta: VolumeMeta
  /** Number of slices (z). */
  sliceCount: number
  /** The slice image roots in z order, when inline. */
  slices?: CID[]
  /** Shards of the slice list, in z order, when sharded. */
  shards?: SliceShard[]
  /** Per level: slice size and the bytes summed over all slices. */
  levels: LevelSummary[]
}

function sumLevels (slices: Array<{ levels: LevelSummary[] }>): LevelSummary[] {
  const first = slices[0].levels
  return first.map((l, k) => {
    let bytes = 0
    for (const [z, s] of slices.entries()) {
      const o = s.levels[k]
      if (s.levels.length !== first.length || o.level !== l.level || o.width !== l.width || o.height !== l.height) {
        throw new FormatError(`volume slice ${z} has levels that differ from slice 0: every slice must be encoded with the same size and decompositions`)
      }
      bytes += o.bytes
    }
    return { level: l.level, width: l.width, height: l.height, bytes }
  })
}

/** Build the volume root (and its slice shards if needed) over already-built slice image DAGs. */
export async function buildVolumeDag (
  meta: VolumeMeta,
  slices: Array<{ root: CID, levels: LevelSummary[] }>
): Promise<{ root: CID, blocks: Block[], levels: LevelSummary[] }> {
  const m = normaliseVolumeMeta(meta)
  if (m === undefined) throw new FormatError('volume metadata needs dims (3 positive integers), spacing (3 numbers), affine (16 numbers) and dtype')
  if (slices.length === 0) throw new FormatError('a volume needs at least one slice')
  if (slices.length > MAX_SHARDS * SLICES_PER_SHARD) throw new FormatError(`a volume may have at most ${MAX_SHARDS * SLICES_PER_SHARD} slices, got ${slices.length}`)
  const levels = sumLevels(slices)
  if (m.dims[2] !== slices.length) throw new FormatError(`volume metadata says ${m.dims[2]} slices (dims[2]) but ${slices.length} were given`)
  const full = levels[levels.length - 1]
  if (full.width !== m.dims[0] || full.height !== m.dims[1]) throw new FormatError(`volume metadata says ${m.dims[0]}x${m.dims[1]} slices (dims) but the slices are ${full.width}x${full.height}`)
  const blocks = new BlockSet()
  const node: Record<string, unknown> = { mist: 'volume', version: NODE_VERSION, meta: m, sliceCount: slices.length, levels }
  if (slices.length <= SLICES_INLINE) {
    node.slices = slices.map(s => s.root)
  } else {
    const shards: SliceShard[] = []
    for (let i = 0; i < slices.length; i += SLICES_PER_SHARD) {
      const part = slices.slice(i, i + SLICES_PER_SHARD).map(s => s.root)
      // `first` (the z of its first slice) makes every shard distinct, even over identical slices
      const b = blocks.add(await cborBlock({ mist: 'slices', version: NODE_VERSION, first: i, slices: part }, 'volume slice shard'))
      shards.push({ cid: b.cid, count: part.length })
    }
    node.shards = shards
  }
  const root = blocks.add(await cborBlock(node, 'volume root'))
  return { root: root.cid, blocks: blocks.toArray(), levels }
}

function checkLevels (v: unknown, c: Checker): LevelSummary[] {
  const out: LevelSummary[] = []
  for (const [k, x] of c.array(v, 'levels', MAX_DECOMPOSITIONS + 1, 1).entries()) {
    const o = c.object(x, `levels[${k}]`)
    const l = {
      level: c.int(o.level, `levels[${k}].level`, k, k),
      width: c.int(o.width, `levels[${k}].width`, 0, 0xffffffff),
      height: c.int(o.height, `levels[${k}].height`, 0, 0xffffffff),
      bytes: c.int(o.bytes, `levels[${k}].bytes`, 0, Number.MAX_SAFE_INTEGER)
    }
    const prev = out[k - 1]
    if (prev !== undefined && (l.bytes < prev.bytes || l.width < prev.width || l.height < prev.height)) c.fail(`levels[${k}] is smaller than levels[${k - 1}]`)
    out.push(l)
  }
  return out
}

/**
 * Decode and validate a volume root; FormatError on anything wrong. Besides types and ranges:
 * sliceCount is the declared depth dims[2] and the full level is dims[0] x dims[1], slices are
 * inline exactly when there are at most SLICES_INLINE, every shard but the last is full, and
 * no shard is listed twice (a repeated shard would multiply the slices a small root declares).
 */
export function decodeVolumeRoot (bytes: Uint8Array, cid: CID): VolumeRoot {
  const { c, n } = openNode(bytes, cid, 'volume root', 'volume')
  const meta = normaliseVolumeMeta(c.object(n.meta, 'meta'))
  if (meta === undefined) c.fail('meta lacks valid dims, spacing, affine or dtype')
  const sliceCount = c.int(n.sliceCount, 'sliceCount', 1, MAX_SHARDS * SLICES_PER_SHARD)
  const levels = checkLevels(n.levels, c)
  const root: VolumeRoot = { mist: 'volume', version: NODE_VERSION, meta: meta!, sliceCount, levels }
  if (n.slices !== undefined) {
    if (n.shards !== undefined) c.fail('has both slices and shards')
    root.slices = c.array(n.slices, 'slices', SLICES_INLINE, 1).map((s, i) => c.cid(s, `slices[${i}]`, dagCbor.code))
    if (root.slices.length !== sliceCount) c.fail(`lists ${root.slices.length} slices, sliceCount is ${sliceCount}`)
  } else {
    if (sliceCount <= SLICES_INLINE) c.fail(`has shards for ${sliceCount} slices; up to ${SLICES_INLINE} slices are listed inline`)
    const seen = new Set<string>()
    const shards = c.array(n.shards, 'shards', MAX_SHARDS, 1)
    root.shards = shards.map((s, i) => {
      const o = c.object(s, `shards[${i}]`)
      const shard = { cid: c.cid(o.cid, `shards[${i}].cid`, dagCbor.code), count: c.int(o.count, `shards[${i}].count`, 1, SLICES_PER_SHARD) }
      if (i < shards.length - 1 && shard.count !== SLICES_PER_SHARD) c.fail(`shards[${i}].count is ${shard.count}: every shard but the last holds ${SLICES_PER_SHARD} slices`)
      const key = cidKey(shard.cid)
      if (seen.has(key)) c.fail(`shards[${i}] repeats an earlier shard (${shard.cid.toString()}): each shard holds its own slices`)
      seen.add(key)
      return shard
    })
    const total = root.shards.reduce((a, s) => a + s.count, 0)
    if (total !== sliceCount) c.fail(`shards hold ${total} slices, sliceCount is ${sliceCount}`)
  }
  if (sliceCount !== meta!.dims[2]) c.fail(`sliceCount ${sliceCount} differs from the declared depth meta.dims[2] ${meta!.dims[2]}`)
  const full = levels[levels.length - 1]
  if (full.width !== meta!.dims[0] || full.height !== meta!.dims[1]) c.fail(`its finest level is ${full.width}x${full.height}, meta.dims says ${meta!.dims[0]}x${meta!.dims[1]}`)
  return root
}

/** Decode and validate one slice shard holding `count` slices from z = `first` on. */
export function decodeSliceShard (bytes: Uint8Array, cid: CID, count: number, first?: number): CID[] {
  const { c, n } = openNode(bytes, cid, 'volume slice shard', 'slices')
  // `first` is written since shards had to be distinct; shards without it are still read
  if (n.first !== undefined && first !== undefined) c.int(n.first, 'first', first, first)
  const slices = c.array(n.slices, 'slices', count, count).map((s, i) => c.cid(s, `slices[${i}]`, dagCbor.code))
  return slices
}

/**
 * The slice image roots of a volume in z order, fetching shard nodes through `getBlock` if the
 * list is sharded: one shard (at most SLICES_PER_SHARD links) is held at a time, so a caller
 * that takes slices as they come never holds the whole list.
 */
export async function * volumeSlices (root: VolumeRoot, getBlock: (cid: CID) => Promise<Uint8Array>): AsyncGenerator<CID> {
  if (root.slices !== undefined) {
    yield * root.slices
    return
  }
  let z = 0
  for (const shard of root.shards ?? []) {
    yield * decodeSliceShard(await getBlock(shard.cid), shard.cid, shard.count, z)
    z += shard.count
  }
}

/**
 * Checks that slice `z`'s image root has the levels its volume root states (same count and
 * sizes): a volume root cannot declare small slices and point at large ones. Repeated slice
 * roots are allowed (identical slices, e.g. empty ones, have the same root).
 */
export function checkVolumeSlice (volume: VolumeRoot, slice: { levels: Array<{ level: number, width: number, height: number }> }, z: number, name: string): void {
  const a = volume.levels
  const b = slice.levels
  if (a.length !== b.length || a.some((l, k) => l.width !== b[k].width || l.height !== b[k].height)) {
    throw new FormatError(`${name}: slice ${z} has levels ${b.map(l => `${l.width}x${l.height}`).join(', ')} but its volume root says ${a.map(l => `${l.width}x${l.height}`).join(', ')}; the volume root is corrupt or hostile`)
  }
}
