import type { CID } from 'multiformats/cid'
import { decodeDatasetRoot, decodeImageRoot, decodeVolumeRoot, rootKind, type DatasetRoot, type ImageRoot, type VolumeRoot } from '../chunker/index.js'
import { FormatError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'

export type AnyRoot =
  | { kind: 'image', cid: CID, root: ImageRoot, bytes: number }
  | { kind: 'volume', cid: CID, root: VolumeRoot, bytes: number }
  | { kind: 'dataset', cid: CID, root: DatasetRoot, bytes: number }

/** Reads a mist-p2p root block of any kind and validates it (FormatError on anything else). */
export async function readRoot (source: BlockSource, cid: CID, options: { signal?: AbortSignal } = {}): Promise<AnyRoot> {
  if (cid.code !== 0x71) throw new FormatError(`${cid} is not a mist-p2p root (a dag-cbor block is expected, this CID has codec 0x${cid.code.toString(16)}); give the root CID that publish printed`)
  const bytes = await source.get(cid, options)
  const kind = rootKind(bytes)
  switch (kind) {
    case 'image': return { kind, cid, root: decodeImageRoot(bytes, cid), bytes: bytes.byteLength }
    case 'volume': return { kind, cid, root: decodeVolumeRoot(bytes, cid), bytes: bytes.byteLength }
    case 'dataset': return { kind, cid, root: decodeDatasetRoot(bytes, cid), bytes: bytes.byteLength }
    default: throw new FormatError(`${cid} is a mist-p2p ${String(kind)} node, not a root you can get; give the root CID that publish printed`)
  }
}
