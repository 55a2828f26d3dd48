/**
 * The image root: one dag-cbor node per published 2D image, listing its raw
 * leaves, the shared EOC leaf, one UnixFS level file per resolution level and
 * the whitelisted technical metadata. Layout and rules: docs/FORMAT.md.
 */
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { CodestreamError, FormatError } from '../errors.js'
import type { Block, ImageMeta } from '../types.js'
import { BlockSet, MAX_BLOCK_BYTES, cborBlock } from './block.js'
import { openNode } from './check.js'
import { NODE_VERSION, type LevelSummary } from './format.js'
import { MAX_DECOMPOSITIONS, levelExtent } from '../j2k/index.js'
import { parseCodestream } from './codestream.js'
import { buildLevelFile } from './level-file.js'
import { DEFAULT_GROUP_BYTES, MAX_LEAVES, eocBlock, planLeaves } from './leaves.js'
import { normaliseImageMeta } from './meta.js'
import { oversizedLevel, repeatedLeaf } from './bounds.js'

/** CID of the shared EOC leaf (raw FF D9): checked against eocBlock() in the tests. */
export const EOC_CID = 'bafkreign4zxhrzkbtxvhjx346q6zvkdwxddgtvaam6ms44m456ikyxz74a'

/** One level as listed in an image root. */
export interface ImageRootLevel extends LevelSummary {
  /** Prefix length (main header + levels 0..level), EOC excluded. */
  end: number
  /** Number of leading leaves that hold the prefix. */
  leaves: number
  /** UnixFS file (dag-pb): leaves[0..leaves) + EOC, a complete codestream for this level. */
  file: CID
}

/** Codestream facts recorded in the root. */
export interface ImageRootCodestream {
  codec: 'htj2k' | 'j2k'
  transform: '5/3' | '9/7'
  progression: 'RPCL' | 'RLCP' | 'LRCP'
  decompositions: number
  /** Bits per sample and signedness as declared in SIZ (may differ from the image's, e.g. signed 8-bit stored in 16). */
  bitDepth: number
  signed: boolean
  /** SIZ image origin (XOsiz, YOsiz). */
  x0: number
  y0: number
  /** Main header bytes (before the first SOT). */
  mainHeader: number
  /** Whole codestream, EOC included. */
  length: number
}

/** A decoded, validated image root. */
export interface ImageRoot {
  mist: 'image'
  version: 1
  width: number
  height: number
  components: number
  bitsStored: number
  signed: boolean
  codestream: ImageRootCodestream
  leaves: Array<{ cid: CID, size: number }>
  eoc: CID
  levels: ImageRootLevel[]
  meta: ImageMeta
}

/** What buildImageDag returns. */
export interface ImageDag {
  root: CID
  /** Every block, each once: leaves, EOC, level file nodes, root. */
  blocks: Block[]
  levels: LevelSummary[]
  /** Each level's UnixFS file and its cumulative size: what a dataset's level directories link (dataset-dirs.ts). */
  files: Array<{ cid: CID, tsize: number }>
}

/**
 * Chunk `codestream` and build its image DAG.
 * @param image what the raster was before encoding (bits actually used, signedness, components).
 * @param meta technical metadata: only the whitelisted fields are kept (see meta.ts).
 */
export async function buildImageDag (
  codestream: Uint8Array,
  image: { bitsStored: number, signed: boolean, components: number },
  meta: ImageMeta,
  options: { name?: string, groupBytes?: number } = {}
): Promise<ImageDag> {
  const name = options.name ?? 'codestream'
  const layout = parseCodestream(codestream, name)
  if (image.components !== layout.components) {
    throw new CodestreamError(`${name}: image has ${image.components} components, codestream ${layout.components}`)
  }
  if (!Number.isInteger(image.bitsStored) || image.bitsStored < 1 || image.bitsStored > layout.bitDepth) {
    throw new CodestreamError(`${name}: bitsStored ${image.bitsStored} does not fit the codestream's ${layout.bitDepth} bits`)
  }
  const plan = await planLeaves(codestream, layout, { groupBytes: options.groupBytes ?? DEFAULT_GROUP_BYTES })
  // what readers refuse (bounds.ts), the builder refuses too: a published root always reads back
  const repeat = repeatedLeaf(plan.leaves)
  if (repeat !== undefined) throw new CodestreamError(`${name}: leaves ${repeat.first} and ${repeat.index} of the codestream are identical, which an image root may not list; the codestream is not one mist-p2p's encoder writes`)
  for (const lv of layout.levels) {
    const why = oversizedLevel(lv, layout.mainHeaderLength, layout.components, layout.bitDepth)
    if (why !== undefined) throw new CodestreamError(`${name}: ${why}; the codestream is not one mist-p2p's encoder writes`)
  }
  const eoc = await eocBlock()
  const blocks = new BlockSet()
  blocks.addAll(plan.leaves)
  blocks.add(eoc)
  const leafRefs = plan.leaves.map(b => ({ cid: b.cid, size: b.bytes.byteLength }))
  const levels: ImageRootLevel[] = []
  const files: ImageDag['files'] = []
  for (const lv of layout.levels) {
    const count = plan.leafCountForLevel[lv.level]
    const fileLeaves = [...leafRefs.slice(0, count), { cid: eoc.cid, size: eoc.bytes.byteLength }]
    const file = await buildLevelFile(fileLeaves)
    blocks.addAll(file.nodes)
    files.push({ cid: file.root, tsize: file.size + file.nodes.reduce((s, n) => s + n.bytes.byteLength, 0) })
    levels.push({ level: lv.level, width: lv.width, height: lv.height, end: lv.end, leaves: count, file: file.root, bytes: file.size })
  }
  const root: ImageRoot = {
    mist: 'image',
    version: NODE_VERSION,
    width: layout.width,
    height: layout.height,
    components: layout.components,
    bitsStored: image.bitsStored,
    signed: image.signed,
    codestream: {
      codec: layout.htj2k ? 'htj2k' : 'j2k',
      transform: layout.transform === 1 ? '5/3' : '9/7',
      progression: layout.progression as ImageRootCodestream['progression'],
      decompositions: layout.decompositions,
      bitDepth: layout.bitDepth,
      signed: layout.signed,
      x0: layout.x0,
      y0: layout.y0,
      mainHeader: layout.mainHeaderLength,
      length: layout.length
    },
    leaves: leafRefs,
    eoc: eoc.cid,
    levels,
    meta: normaliseImageMeta(meta)
  }
  const rootBlock = blocks.add(await cborBlock(root, `image root of ${name}`))
  return {
    root: rootBlock.cid,
    blocks: blocks.toArray(),
    levels: levels.map(l => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes })),
    files
  }
}

/**
 * Decode and validate an image root. Checks types, ranges and consistency:
 * level sizes follow the ceil formula, ends and leaf counts increase, each
 * level's leaf count is the fewest leaves that cover its end, leaf sizes add up
 * to the codestream length, no leaf is listed twice and no level holds more bytes than a
 * lossless codestream of its pixels can (so a reader's allocation is bounded before it
 * fetches a leaf). Throws FormatError on anything wrong.
 */
export function decodeImageRoot (bytes: Uint8Array, cid: CID): ImageRoot {
  const { c, n } = openNode(bytes, cid, 'image root', 'image')
  const U32 = 0xffffffff
  const width = c.int(n.width, 'width', 1, U32)
  const height = c.int(n.height, 'height', 1, U32)
  const components = c.int(n.components, 'components', 1, 16384)
  const bitsStored = c.int(n.bitsStored, 'bitsStored', 1, 38)
  const signed = c.bool(n.signed, 'signed')

  const cs = c.object(n.codestream, 'codestream')
  const codestream: ImageRootCodestream = {
    codec: c.literal(cs.codec, 'codestream.codec', 'htj2k', 'j2k'),
    transform: c.literal(cs.transform, 'codestream.transform', '5/3', '9/7'),
    progression: c.literal(cs.progression, 'codestream.progression', 'RPCL', 'RLCP', 'LRCP'),
    decompositions: c.int(cs.decompositions, 'codestream.decompositions', 0, MAX_DECOMPOSITIONS),
    bitDepth: c.int(cs.bitDepth, 'codestream.bitDepth', 1, 38),
    signed: c.bool(cs.signed, 'codestream.signed'),
    x0: c.int(cs.x0, 'codestream.x0', 0, U32 - 1),
    y0: c.int(cs.y0, 'codestream.y0', 0, U32 - 1),
    mainHeader: c.int(cs.mainHeader, 'codestream.mainHeader', 4, MAX_BLOCK_BYTES),
    length: c.int(cs.length, 'codestream.length', 8, Number.MAX_SAFE_INTEGER)
  }
  if (bitsStored > codestream.bitDepth) c.fail(`bitsStored ${bitsStored} exceeds codestream.bitDepth ${codestream.bitDepth}`)
  if (codestream.x0 + width > U32 || codestream.y0 + height > U32) c.fail('image extends past 2^32-1')

  const leaves = c.array(n.leaves, 'leaves', MAX_LEAVES, 1).map((v, i) => {
    const o = c.object(v, `leaves[${i}]`)
    return { cid: c.cid(o.cid, `leaves[${i}].cid`, raw.code), size: c.int(o.size, `leaves[${i}].size`, 1, MAX_BLOCK_BYTES) }
  })
  const eoc = c.cid(n.eoc, 'eoc', raw.code)
  if (eoc.toString() !== EOC_CID) c.fail(`eoc is ${eoc.toString()}, not the EOC leaf ${EOC_CID}`)
  const prefix = [0]
  for (const l of leaves) prefix.push(prefix[prefix.length - 1] + l.size)
  if (prefix[leaves.length] + 2 !== codestream.length) c.fail(`leaves add up to ${prefix[leaves.length]} bytes, codestream.length - 2 is ${codestream.length - 2}`)

  const D = codestream.decompositions
  const rawLevels = c.array(n.levels, 'levels', MAX_DECOMPOSITIONS + 1, 1)
  if (rawLevels.length !== D + 1) c.fail(`has ${rawLevels.length} levels, codestream.decompositions ${D} needs ${D + 1}`)
  const levels: ImageRootLevel[] = []
  let prevEnd = codestream.mainHeader
  let prevCount = 1
  for (let k = 0; k < rawLevels.length; k++) {
    const f = `levels[${k}]`
    const o = c.object(rawLevels[k], f)
    const level = c.int(o.level, `${f}.level`, k, k)
    const w = c.int(o.width, `${f}.width`, 0, U32)
    const h = c.int(o.height, `${f}.height`, 0, U32)
    const ew = levelExtent(codestream.x0 + width, codestream.x0, D, k)
    const eh = levelExtent(codestream.y0 + height, codestream.y0, D, k)
    if (w !== ew || h !== eh) c.fail(`${f} is ${w}x${h}, the ceil formula gives ${ew}x${eh}`)
    const end = c.int(o.end, `${f}.end`, prevEnd + 1, codestream.length - 2)
    const count = c.int(o.leaves, `${f}.leaves`, prevCount, leaves.length)
    if (!(prefix[count] >= end && prefix[count - 1] < end)) c.fail(`${f}.leaves ${count} is not the fewest leaves covering end ${end}`)
    const bytesMoved = c.int(o.bytes, `${f}.bytes`, 0, Number.MAX_SAFE_INTEGER)
    if (bytesMoved !== prefix[count] + 2) c.fail(`${f}.bytes is ${bytesMoved}, its leaves and EOC hold ${prefix[count] + 2}`)
    const file = c.cid(o.file, `${f}.file`, dagPb.code)
    levels.push({ level, width: w, height: h, end, leaves: count, file, bytes: bytesMoved })
    prevEnd = end
    prevCount = count
  }
  if (levels[D].end !== codestream.length - 2) c.fail(`last level ends at ${levels[D].end}, codestream at ${codestream.length - 2}`)
  if (levels[D].width !== width || levels[D].height !== height) c.fail('last level is not full size')
  // bounds on what a reader allocates for any level, before a leaf is fetched (bounds.ts)
  const repeat = repeatedLeaf(leaves)
  if (repeat !== undefined) c.fail(`leaves[${repeat.index}] repeats leaves[${repeat.first}] (${leaves[repeat.index].cid.toString()}): every leaf of an image is distinct`)
  for (const lv of levels) {
    const why = oversizedLevel(lv, codestream.mainHeader, components, codestream.bitDepth)
    if (why !== undefined) c.fail(why)
  }

  c.object(n.meta, 'meta')
  const meta = normaliseImageMeta(n.meta)
  return { mist: 'image', version: NODE_VERSION, width, height, components, bitsStored, signed, codestream, leaves, eoc, levels, meta }
}

/** What a getter needs to fetch and decode level `level` of an image. */
export interface LevelPlan {
  /**
   * Leading leaves in order, EOC not included. Their concatenation starts with the
   * level's prefix [0, end) and may run a little past `end` (grouped small levels):
   * keep [0, end) and append FF D9, or append the `eoc` leaf to the whole.
   */
  leaves: Array<{ cid: CID, size: number }>
  /** The shared EOC leaf (FF D9). */
  eoc: CID
  /** UnixFS file of the same bytes (for tools that only know UnixFS). */
  file: CID
  /** The level's prefix length in the codestream (EOC excluded); the first leaves may hold a little more. */
  end: number
  width: number
  height: number
  decompositions: number
  /** Levels to discard when decoding: D - level (OpenJPEG -r, OpenJPH decodeSubResolution). */
  reduce: number
}

/** The leaves and decode parameters for `level` (0 = coarsest). */
export function levelPlan (root: ImageRoot, level: number): LevelPlan {
  const lv = root.levels[level]
  if (!Number.isInteger(level) || lv === undefined) {
    // reached with a level a volume or dataset root lists but its image lacks: the DAG is inconsistent
    throw new FormatError(`level ${level} does not exist: the image has levels 0..${root.levels.length - 1} (a volume or dataset root that lists this level does not match its image)`)
  }
  return {
    leaves: root.leaves.slice(0, lv.leaves),
    eoc: root.eoc,
    file: lv.file,
    end: lv.end,
    width: lv.width,
    height: lv.height,
    decompositions: root.codestream.decompositions,
    reduce: root.codestream.decompositions - level
  }
}
