/**
 * Cut a codestream into raw leaves at resolution-level boundaries.
 *
 * Rule (docs/FORMAT.md, "Leaves"):
 *  1. Segment 0 = main header + every leading level whose prefix end is <= groupBytes
 *     (at least level 0). Every later level is a segment of its own.
 *  2. A segment longer than CHUNK_BYTES is cut into ceil(len / CHUNK_BYTES) pieces of
 *     near-equal size (the first `len % n` pieces one byte longer): no tiny tail block.
 *  3. The final EOC is not in any leaf: every level file ends with the one shared
 *     2-byte EOC leaf (FF D9).
 */
import { CodestreamError } from '../errors.js'
import type { Block } from '../types.js'
import { MAX_BLOCK_BYTES, rawBlock } from './block.js'
import type { CodestreamLayout } from './codestream.js'

/** Default grouping threshold for the small leading levels (see FORMAT.md for the arithmetic). */
export const DEFAULT_GROUP_BYTES = 4096
/** Largest leaf the splitter makes: 256 KiB, the usual IPFS chunk size, 1/4 of MAX_BLOCK_BYTES. */
export const CHUNK_BYTES = 256 * 1024
/** An image root lists every leaf; this many keeps it well under MAX_BLOCK_BYTES (2 GiB of codestream at 256 KiB). */
export const MAX_LEAVES = 8192

/** The leaves of one codestream. */
export interface LeafPlan {
  /** Concatenation === codestream without its final EOC. */
  leaves: Block[]
  /** leafCountForLevel[k]: how many leading leaves a getter needs for level k. */
  leafCountForLevel: number[]
}

const EOC_BYTES = Uint8Array.of(0xff, 0xd9)
let eoc: Promise<Block> | undefined

/** The shared 2-byte EOC (FF D9) raw block that ends every level file. */
export async function eocBlock (): Promise<Block> {
  eoc ??= rawBlock(EOC_BYTES)
  const b = await eoc
  return { cid: b.cid, bytes: b.bytes.slice() }
}

/** Byte offsets where leaves end, following the rule above. Pure arithmetic, exported for tests and docs. */
export function leafBoundaries (layout: CodestreamLayout, groupBytes = DEFAULT_GROUP_BYTES): { ends: number[], leafCountForLevel: number[] } {
  if (!Number.isInteger(groupBytes) || groupBytes < 0 || groupBytes > MAX_BLOCK_BYTES) {
    throw new RangeError(`groupBytes must be an integer in 0..${MAX_BLOCK_BYTES}, got ${groupBytes}`)
  }
  const levels = layout.levels
  let first = 0
  while (first + 1 < levels.length && levels[first + 1].end <= groupBytes) first++
  const ends: number[] = []
  const leafCountForLevel: number[] = []
  let start = 0
  for (let k = 0; k < levels.length; k++) {
    if (k < first) continue
    const end = levels[k].end
    const len = end - start
    const pieces = Math.max(1, Math.ceil(len / CHUNK_BYTES))
    const base = Math.floor(len / pieces)
    const extra = len % pieces
    let at = start
    for (let i = 0; i < pieces; i++) {
      at += base + (i < extra ? 1 : 0)
      ends.push(at)
    }
    start = end
    if (k === first) for (let j = 0; j <= first; j++) leafCountForLevel.push(ends.length)
    else leafCountForLevel.push(ends.length)
  }
  return { ends, leafCountForLevel }
}

/**
 * Split `codestream` (already parsed into `layout`) into raw leaves.
 * The leaves are views into `codestream`, not copies.
 */
export async function planLeaves (codestream: Uint8Array, layout: CodestreamLayout, options: { groupBytes?: number } = {}): Promise<LeafPlan> {
  if (codestream.byteLength !== layout.length) {
    throw new CodestreamError(`codestream has ${codestream.byteLength} bytes but its layout says ${layout.length}`)
  }
  const { ends, leafCountForLevel } = leafBoundaries(layout, options.groupBytes ?? DEFAULT_GROUP_BYTES)
  if (ends.length > MAX_LEAVES) {
    throw new CodestreamError(`codestream of ${codestream.byteLength} bytes needs ${ends.length} leaves, more than the ${MAX_LEAVES} an image root may list`)
  }
  const leaves: Block[] = []
  let start = 0
  for (const end of ends) {
    leaves.push(await rawBlock(codestream.subarray(start, end)))
    start = end
  }
  return { leaves, leafCountForLevel }
}
