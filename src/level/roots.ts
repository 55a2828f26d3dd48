import { cidKey } from '../util/cid-key.js'
import type { CID } from 'multiformats/cid'
import { decodeDatasetRoot, decodeImageRoot, decodeVolumeRoot, rootKind, type DatasetRoot, type ImageRoot, type VolumeRoot } from '../chunker/index.js'
import { FormatError, MissingBlockError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

export type AnyRoot =
  | { kind: 'image', cid: CID, root: ImageRoot, bytes: number }
  | { kind: 'volume', cid: CID, root: VolumeRoot, bytes: number }
  | { kind: 'dataset', cid: CID, root: DatasetRoot, bytes: number }

/** What a structural block is to the DAG (named in errors, and by the block walk). */
export type BlockRole = 'dataset' | 'index' | 'volume' | 'shard' | 'image' | 'file' | 'dir'

export interface ReadBlockOptions extends AbortOptions {
  /** Sees every structural block as it is read (the block walk visits them, verify counts them). */
  onRead?: (cid: CID, role: BlockRole, name: string, bytes: number) => Promise<void> | void
}

export interface ReadRootOptions extends ReadBlockOptions {
  /** Names the entry in the error when the block is missing (dataset entry or slice). */
  name?: string
  role?: BlockRole
}

/**
 * Reads one structural block; a missing one is a MissingBlockError naming the entry and
 * the block's role when `name` is given.
 */
export async function readBlock (source: BlockSource, cid: CID, role: BlockRole, name: string | undefined, options: ReadBlockOptions = {}): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await source.get(cid, { signal: options.signal })
  } catch (err: any) {
    if (name != null && err instanceof MissingBlockError) throw new MissingBlockError(`${name}: its ${role} block ${cid} is missing: ${err.message}`, { cause: err })
    throw err
  }
  await options.onRead?.(cid, role, name ?? cid.toString(), bytes.byteLength)
  return bytes
}

/**
 * Roots a network source has given, decoded, per source (a get over the network reads each root
 * twice: to fetch the level, then to decode it). Never for a local repo: a check of what a repo
 * holds (verify, pin check, after a gc) must read the block itself. Roots are immutable.
 */
const decoded = new WeakMap<BlockSource, Map<string, AnyRoot>>()
const DECODED_PER_SOURCE = 4096

/** Reads a mist-p2p root block of any kind and validates it (FormatError on anything else). */
export async function readRoot (source: BlockSource, cid: CID, options: ReadRootOptions = {}): Promise<AnyRoot> {
  if (cid.code !== 0x71) throw new FormatError(`${cid} is not a mist-p2p root (a dag-cbor block is expected, this CID has codec 0x${cid.code.toString(16)}); give the root CID that publish printed`)
  const key = cidKey(cid)
  let cache = source.remote === true ? decoded.get(source) : undefined
  const hit = options.onRead == null ? cache?.get(key) : undefined
  if (hit != null) return hit
  const bytes = await readBlock(source, cid, options.role ?? 'image', options.name, { signal: options.signal })
  const found = decodeRoot(bytes, cid)
  await options.onRead?.(cid, found.kind, options.name ?? cid.toString(), bytes.byteLength)
  if (source.remote === true) {
    if (cache == null) decoded.set(source, cache = new Map())
    if (cache.size >= DECODED_PER_SOURCE) cache.delete(cache.keys().next().value as string)
    cache.set(key, found)
  }
  return found
}

function decodeRoot (bytes: Uint8Array, cid: CID): AnyRoot {
  const kind = rootKind(bytes)
  switch (kind) {
    case 'image': return { kind, cid, root: decodeImageRoot(bytes, cid), bytes: bytes.byteLength }
    case 'volume': return { kind, cid, root: decodeVolumeRoot(bytes, cid), bytes: bytes.byteLength }
    case 'dataset': return { kind, cid, root: decodeDatasetRoot(bytes, cid), bytes: bytes.byteLength }
    default: throw new FormatError(`${cid} is a mist-p2p ${String(kind)} node, not a root you can get; give the root CID that publish printed`)
  }
}
