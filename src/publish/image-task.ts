/**
 * Publishing one PNG file on a codec worker: read, decode, encode and chunk there, so the main
 * thread only writes blocks and orchestrates (a profile of publish showed PNG decoding, hashing
 * and garbage collection on the main thread while the workers waited). The blocks come back
 * packed in one transferred buffer; the CIDs are those the main-thread path makes.
 */
import { CID } from 'multiformats/cid'
import { buildImageDag } from '../chunker/index.js'
import { jobModuleUrl, type CodecPool, type TaskCodec, type TaskOutput } from '../codec/index.js'
import { sniffFormat } from '../formats/index.js'
import { readInputBytes } from '../formats/input-file.js'
import { readPngBytes } from '../formats/png/read.js'
import type { LevelSummary } from '../chunker/format.js'
import type { AbortOptions, Block, ImageMeta } from '../types.js'

export interface ImageTaskInput {
  path: string
  /** Wavelet decompositions (default: coarsest level <= 64 px). */
  decompositions?: number
}

interface PackedImage {
  /** Not a PNG after all: the caller reads the file itself. */
  notPng?: true
  root?: Uint8Array
  levels?: LevelSummary[]
  pixels?: number
  meta?: ImageMeta
  /** Every block: CID bytes and its end offset in `bytes`. */
  cids?: Uint8Array[]
  ends?: number[]
  bytes?: Uint8Array
}

export interface PublishedImage {
  root: CID
  levels: LevelSummary[]
  blocks: Block[]
  pixels: number
  meta: ImageMeta
}

/** What the worker runs (src/codec/worker.ts loads this module by its URL). */
export async function runTask (input: ImageTaskInput, codec: TaskCodec): Promise<TaskOutput> {
  const file = await readInputBytes(input.path)
  if (sniffFormat(file.subarray(0, 64)) !== 'png') return { value: { notPng: true } satisfies PackedImage }
  const item = readPngBytes(input.path, file)
  if (item.kind !== 'image') return { value: { notPng: true } satisfies PackedImage }
  const { image, meta } = item
  const codestream = codec.encode(image, { decompositions: input.decompositions })
  const dag = await buildImageDag(codestream, image, meta, { name: input.path })
  const total = dag.blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
  const bytes = new Uint8Array(total)
  const ends: number[] = []
  let at = 0
  for (const b of dag.blocks) {
    bytes.set(b.bytes, at)
    at += b.bytes.byteLength
    ends.push(at)
  }
  const value: PackedImage = { root: dag.root.bytes, levels: dag.levels, pixels: image.width * image.height, meta, cids: dag.blocks.map(b => b.cid.bytes), ends, bytes }
  return { value, transfer: [bytes.buffer as ArrayBuffer] }
}

const MODULE = jobModuleUrl(import.meta.url)

/** Whether a file is sent to publishImageOnPool (a worker still checks its bytes). */
export function isPngPath (path: string): boolean {
  return path.toLowerCase().endsWith('.png')
}

/**
 * Decodes, encodes and chunks the PNG at `path` on a worker of `pool`; undefined when the file
 * is not a PNG after all. Errors are those the main-thread path throws (InvalidInputError …).
 */
export async function publishPngOnPool (pool: CodecPool, input: ImageTaskInput, options: AbortOptions = {}): Promise<PublishedImage | undefined> {
  const got = await pool.runTask<PackedImage>(MODULE, input, { signal: options.signal })
  if (got.notPng === true) return undefined
  const { root, levels, pixels, meta, cids, ends, bytes } = got as Required<PackedImage>
  const blocks: Block[] = cids.map((cid, i) => ({ cid: CID.decode(cid), bytes: bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]) }))
  return { root: CID.decode(root), levels, blocks, pixels, meta }
}
