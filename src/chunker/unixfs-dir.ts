/**
 * One standard UnixFS directory over existing blocks, encoded the way Kubo encodes it, so the
 * same names and children give the same CID in Kubo (`ipfs add -r --cid-version=1 --raw-leaves`):
 *
 * - A plain `directory` node (links sorted by name, `Tsize` = the child's cumulative size) while
 *   Kubo's size estimate, the sum over links of UTF-8 name bytes + CID bytes, is at most
 *   HAMT_THRESHOLD_BYTES (Kubo 0.43 `Import.UnixFSHAMTDirectorySizeThreshold`, 256 KiB, with
 *   the default "links" estimation); above it,
 * - a `hamt-sharded-directory`: fanout 256, murmur3-x64-64 of the name (hash type 0x22), each
 *   node's links labelled with the two upper-case hex digits of their slot, followed by the
 *   name for an entry (a bare label for a sub-shard).
 *
 * The trie itself comes from `hamt-sharding` (the structure js and Go importers share); this
 * module only encodes its nodes.
 */
import * as dagPb from '@ipld/dag-pb'
import { murmur3128 } from '@multiformats/murmur3'
import { Bucket, createHAMT } from 'hamt-sharding'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { FormatError } from '../errors.js'
import type { Block } from '../types.js'
import { pbBlock } from './block.js'

/** A directory shards when its estimated size is above this (Kubo's default threshold). */
export const HAMT_THRESHOLD_BYTES = 256 * 1024
/** Slots per HAMT node (Kubo's `Import.UnixFSHAMTDirectoryMaxFanout` default). */
export const HAMT_FANOUT = 256
/** murmur3-x64-64, the hash Kubo's HAMT directories use. */
const HAMT_HASH_TYPE = 0x22n

/** A child of a directory: its name in the directory, its CID and its cumulative DAG size. */
export interface DirLink { name: string, cid: CID, tsize: number }

/** A built directory: its top node, its cumulative size (for its parent's link) and every node made. */
export interface BuiltDirectory { cid: CID, tsize: number, blocks: Block[], sharded: boolean }

const utf8 = new TextEncoder()

/** Kubo's size estimate of a plain directory holding `links` (its "links" estimation mode). */
export function estimateDirectorySize (links: Iterable<DirLink>): number {
  let size = 0
  for (const l of links) size += utf8.encode(l.name).byteLength + l.cid.bytes.byteLength
  return size
}

/** The first 64 bits of murmur3-x64-128, in the byte order Go's HAMT reads them. */
async function hamtHash (bytes: Uint8Array): Promise<Uint8Array> {
  return (await murmur3128.encode(bytes)).slice(0, 8).reverse()
}

/**
 * Builds the directory over `links` (names unique, non-empty, without '/'). Throws a
 * FormatError on a duplicate or invalid name: directory names come from dataset entry names.
 */
export async function buildUnixfsDirectory (links: DirLink[]): Promise<BuiltDirectory> {
  for await (const dir of buildUnixfsDirectoryVariants(links.map(l => l.name), [links])) return dir
  throw new RangeError('no directory built')
}

/**
 * The directories over the same `names` with different children (one per variant, e.g. one per
 * level: `variants[v][i]` is what names[i] links to in variant v). The HAMT trie depends only on
 * the names, so it is built once for all variants. Yields each variant's directory in turn, so a
 * caller that stores its blocks before asking for the next holds one variant's nodes at a time.
 */
export async function * buildUnixfsDirectoryVariants (names: string[], variants: Array<Array<{ cid: CID, tsize: number }>>): AsyncGenerator<BuiltDirectory> {
  const seen = new Set<string>()
  const nameBytes = names.reduce((s, name) => {
    if (name.length === 0 || name.includes('/')) throw new FormatError(`UnixFS directory entry ${JSON.stringify(name)}: a name must be non-empty and hold no "/"`)
    if (seen.has(name)) throw new FormatError(`UnixFS directory has two entries named ${JSON.stringify(name)}`)
    seen.add(name)
    return s + utf8.encode(name).byteLength
  }, 0)
  let trie: Bucket<number> | undefined
  for (const children of variants) {
    if (children.length !== names.length) throw new RangeError(`${children.length} children for ${names.length} names`)
    const blocks: Block[] = []
    if (nameBytes + children.reduce((s, c) => s + c.cid.bytes.byteLength, 0) <= HAMT_THRESHOLD_BYTES) {
      const block = await pbBlock({
        Data: new UnixFS({ type: 'directory' }).marshal(),
        Links: children.map((c, i) => ({ Name: names[i], Hash: c.cid, Tsize: c.tsize }))
      }, 'UnixFS directory')
      blocks.push(block)
      yield { cid: block.cid, tsize: block.bytes.byteLength + children.reduce((s, c) => s + c.tsize, 0), blocks, sharded: false }
      continue
    }
    if (trie === undefined) {
      trie = createHAMT<number>({ hashFn: hamtHash, bits: 8 })
      for (const [i, name] of names.entries()) await trie.put(name, i)
    }
    const top = await shardNode(trie, children, blocks)
    yield { ...top, blocks, sharded: true }
  }
}

/** Encodes one HAMT node (children first), appending its blocks; trie values index `children`. */
async function shardNode (bucket: Bucket<number>, children: Array<{ cid: CID, tsize: number }>, blocks: Block[]): Promise<{ cid: CID, tsize: number }> {
  const slots = bucket._children
  const links: dagPb.PBLink[] = []
  let tsize = 0
  for (let i = 0; i < slots.length; i++) {
    const slot = slots.get(i)
    if (slot == null) continue
    const label = i.toString(16).toUpperCase().padStart(2, '0')
    if (slot instanceof Bucket) {
      const sub = await shardNode(slot, children, blocks)
      links.push({ Name: label, Hash: sub.cid, Tsize: sub.tsize })
      tsize += sub.tsize
    } else {
      const child = children[slot.value]
      links.push({ Name: label + slot.key, Hash: child.cid, Tsize: child.tsize })
      tsize += child.tsize
    }
  }
  // Go stores the occupancy bitfield little-endian: reverse the trie's big-endian one
  const data = new UnixFS({ type: 'hamt-sharded-directory', data: Uint8Array.from(slots.bitField().reverse()), fanout: BigInt(HAMT_FANOUT), hashType: HAMT_HASH_TYPE })
  const block = await pbBlock({ Data: data.marshal(), Links: links }, 'UnixFS HAMT directory shard')
  blocks.push(block)
  return { cid: block.cid, tsize: tsize + block.bytes.byteLength }
}
