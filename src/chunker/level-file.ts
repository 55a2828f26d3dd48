/**
 * A level file: a standard UnixFS file (dag-pb) whose content is a complete,
 * decodable codestream for one resolution level: the leading leaves of the
 * image followed by the shared EOC leaf. It reuses the image's leaves, so
 * nothing is stored twice; `ipfs cat <file>` yields a .j2c any JPEG 2000
 * decoder opens at reduce D - k.
 *
 * Up to MAX_LINKS children the file is one node (the layout the js and Go
 * importers produce for <= 1024/174 leaves, with raw leaves). Above that, the
 * children are grouped into a balanced tree: runs of MAX_LINKS consecutive
 * children become intermediate UnixFS file nodes, level by level, until the top
 * node has at most MAX_LINKS links. Full runs are identical for every level of
 * one image, so their blocks are shared as well.
 */
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import type { Block } from '../types.js'
import { pbBlock } from './block.js'

/** Most links in one UnixFS file node (the js importer's default maxChildrenPerNode). */
export const MAX_LINKS = 1024

interface Child { cid: CID, fileSize: number, tsize: number }

/** The result: the file root, and every dag-pb node made (leaves are not included). */
export interface LevelFile {
  root: CID
  /** Content bytes (sum of the leaves, EOC included). */
  size: number
  nodes: Block[]
}

async function fileNode (children: Child[], nodes: Block[]): Promise<Child> {
  const data = new UnixFS({ type: 'file', blockSizes: children.map(c => BigInt(c.fileSize)) })
  const block = await pbBlock({
    Data: data.marshal(),
    Links: children.map(c => ({ Hash: c.cid, Name: '', Tsize: c.tsize }))
  }, 'UnixFS file node')
  nodes.push(block)
  return {
    cid: block.cid,
    fileSize: children.reduce((s, c) => s + c.fileSize, 0),
    tsize: block.bytes.byteLength + children.reduce((s, c) => s + c.tsize, 0)
  }
}

/** Build the UnixFS file over `leaves` (raw blocks, in order), which must end with the EOC leaf. */
export async function buildLevelFile (leaves: Array<{ cid: CID, size: number }>): Promise<LevelFile> {
  if (leaves.length === 0) throw new RangeError('a level file needs at least one leaf')
  const nodes: Block[] = []
  let layer: Child[] = leaves.map(l => ({ cid: l.cid, fileSize: l.size, tsize: l.size }))
  while (layer.length > MAX_LINKS) {
    const next: Child[] = []
    for (let i = 0; i < layer.length; i += MAX_LINKS) {
      const run = layer.slice(i, i + MAX_LINKS)
      next.push(run.length === 1 ? run[0] : await fileNode(run, nodes))
    }
    layer = next
  }
  const top = await fileNode(layer, nodes)
  return { root: top.cid, size: top.fileSize, nodes }
}
