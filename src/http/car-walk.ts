/**
 * The blocks of a trustless-gateway CAR response, in depth-first order without duplicates
 * (`order=dfs; dups=n`), for each `dag-scope`: `block` (the root), `entity` (a UnixFS file's
 * blocks, only those an `entity-bytes` range needs; any other node alone) and `all` (the
 * whole DAG under the root, through dag-pb and dag-cbor links).
 */
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { HttpRequestError } from '../errors.js'
import { cidKey } from '../util/cid-key.js'

export type DagScope = 'block' | 'entity' | 'all'

/** `entity-bytes=from:to` as sent: `to` undefined for `*`; negatives count from the end. */
export interface EntityBytes { from: number, to?: number }

export interface CarBlock { cid: CID, bytes: Uint8Array }

export interface WalkCarOptions {
  scope: DagScope
  entityBytes?: EntityBytes
  /** Reads a block (verified against its CID by the store). */
  get: (cid: CID) => Promise<Uint8Array>
}

const RAW = 0x55
const IDENTITY = 0x00
/** dag-cbor values nest at most this deep before the walk stops looking for links in them. */
const MAX_CBOR_DEPTH = 64
/** UnixFS file trees deeper than this are refused (a level file of 2^60 bytes needs 6). */
const MAX_FILE_DEPTH = 32

/** Parses `entity-bytes` (`from:to`, `to` may be `*`, either may be negative). */
export function parseEntityBytes (value: string): EntityBytes {
  const m = /^(-?\d{1,16}):(\*|-?\d{1,16})$/.exec(value)
  if (m == null) throw new HttpRequestError(400, `entity-bytes=${value}: expected from:to (byte offsets, to may be *, negatives count from the end)`)
  const from = Number(m[1])
  const to = m[2] === '*' ? undefined : Number(m[2])
  if (to !== undefined && from >= 0 && to >= 0 && to < from) throw new HttpRequestError(400, `entity-bytes=${value}: to is before from`)
  return { from, to }
}

/** The block bytes of a CID whose multihash is the identity: its digest (never sent in a CAR). */
function identityBytes (cid: CID): Uint8Array | undefined {
  return cid.multihash.code === IDENTITY ? cid.multihash.digest : undefined
}

/** The CIDs a dag-cbor value links to, in the order they appear. */
function cborLinks (value: unknown): CID[] {
  const out: CID[] = []
  const stack: Array<{ v: unknown, depth: number }> = [{ v: value, depth: 0 }]
  // depth-first, keeping document order: children pushed in reverse
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!
    if (v == null || typeof v !== 'object' || depth > MAX_CBOR_DEPTH) continue
    const asCid = CID.asCID(v)
    if (asCid != null) { out.push(asCid); continue }
    if (v instanceof Uint8Array) continue
    const children = Array.isArray(v) ? v : Object.values(v)
    for (let i = children.length - 1; i >= 0; i--) stack.push({ v: children[i], depth: depth + 1 })
  }
  return out
}

/** The links of a block, for the codecs this gateway can read. */
function links (cid: CID, bytes: Uint8Array): CID[] {
  switch (cid.code) {
    case RAW: return []
    case dagPb.code: return dagPb.decode(bytes).Links.map(l => l.Hash)
    case dagCbor.code: return cborLinks(dagCbor.decode(bytes))
    default: throw new HttpRequestError(501, `${cid}: codec 0x${cid.code.toString(16)} is not one this gateway can walk (raw, dag-pb, dag-cbor); ask for dag-scope=block or format=raw`)
  }
}

/** The UnixFS data of a dag-pb file node, or undefined for anything else. */
function unixfsFile (cid: CID, bytes: Uint8Array): { node: dagPb.PBNode, fs: UnixFS } | undefined {
  if (cid.code !== dagPb.code) return undefined
  const node = dagPb.decode(bytes)
  if (node.Data == null) return undefined
  let fs: UnixFS
  try { fs = UnixFS.unmarshal(node.Data) } catch { return undefined }
  return fs.type === 'file' || fs.type === 'raw' ? { node, fs } : undefined
}

/** The blocks of the response, streamed: each is read only when the previous one has been written. */
export async function * walkCar (root: CID, options: WalkCarOptions): AsyncGenerator<CarBlock> {
  const seen = new Set<string>()
  const read = async (cid: CID): Promise<Uint8Array> => identityBytes(cid) ?? await options.get(cid)
  const emit = (cid: CID): boolean => {
    if (cid.multihash.code === IDENTITY) return false
    const key = cidKey(cid)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  }
  const rootBytes = await read(root)
  const scope = options.entityBytes != null ? 'entity' : options.scope

  if (scope === 'block') {
    if (emit(root)) yield { cid: root, bytes: rootBytes }
    return
  }
  if (scope === 'entity') {
    const file = unixfsFile(root, rootBytes)
    if (emit(root)) yield { cid: root, bytes: rootBytes }
    if (file == null) return
    const size = Number(file.fs.fileSize())
    let from = 0
    let to = size - 1
    if (options.entityBytes != null) {
      const r = options.entityBytes
      from = Math.max(0, r.from < 0 ? size + r.from : r.from)
      to = Math.min(size - 1, r.to === undefined ? size - 1 : r.to < 0 ? size + r.to : r.to)
    }
    if (from > to) return
    yield * fileRange(file, 0, from, to, 0)
    return
  }

  // all: depth-first through every link
  const stack: CID[] = [root]
  let first = true
  while (stack.length > 0) {
    const cid = stack.pop()!
    const key = cidKey(cid)
    if (seen.has(key)) continue
    const bytes = first ? rootBytes : await read(cid)
    first = false
    if (emit(cid)) yield { cid, bytes }
    else seen.add(key)
    const children = links(cid, bytes)
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
  }

  /** The children of a UnixFS file node that hold bytes of [from, to] (absolute offsets; the node starts at `start`). */
  async function * fileRange (file: { node: dagPb.PBNode, fs: UnixFS }, start: number, from: number, to: number, depth: number): AsyncGenerator<CarBlock> {
    if (depth > MAX_FILE_DEPTH) throw new HttpRequestError(502, `a UnixFS file nests more than ${MAX_FILE_DEPTH} levels of nodes: not walked`)
    let offset = start + (file.fs.data?.byteLength ?? 0)
    const sizes = file.fs.blockSizes
    if (sizes.length !== file.node.Links.length) throw new HttpRequestError(502, `a UnixFS file node lists ${sizes.length} block sizes for ${file.node.Links.length} links: not a valid file`)
    for (const [i, link] of file.node.Links.entries()) {
      const size = Number(sizes[i])
      const end = offset + size - 1
      if (size > 0 && end >= from && offset <= to) {
        const bytes = await read(link.Hash)
        if (emit(link.Hash)) yield { cid: link.Hash, bytes }
        const child = unixfsFile(link.Hash, bytes)
        if (child != null) yield * fileRange(child, offset, from, to, depth + 1)
      }
      offset += size
      if (offset > to) break
    }
  }
}
