/**
 * Publishing one PNG file on a codec worker: read, decode, encode and chunk there, so the main
 * thread only writes blocks and orchestrates (a profile of publish showed PNG decoding, hashing
 * and garbage collection on the main thread while the workers waited). The blocks come back
 * packed in one transferred buffer; the CIDs are those the main-thread path makes.
 */
import { CID } from 'multiformats/cid'
import { buildImageDag } from '../chunker/index.js'
import { jobModuleUrl, ownBuffer, type CodecPool, type TaskCodec, type TaskOutput } from '../codec/index.js'
import { sniffFormat } from '../formats/index.js'
import { readInputBytes } from '../formats/input-file.js'
import { readPngBytes } from '../formats/png/read.js'
import type { LevelSummary } from '../chunker/format.js'
import type { LevelTarget } from '../chunker/level-dirs.js'
import { CodecError } from '../errors.js'
import type { AbortOptions, Block, ImageMeta, RasterImage } from '../types.js'

export interface ImageTaskInput {
  /** A PNG file to read and decode on the worker ... */
  path?: string
  /** ... or an image already read (a slice of a volume, a DICOM or NIfTI image), with its metadata and name. */
  image?: RasterImage
  meta?: ImageMeta
  name?: string
  /** Wavelet decompositions (default: coarsest level <= 64 px). */
  decompositions?: number
}

interface PackedImage {
  /** Not a PNG after all: the caller reads the file itself. */
  notPng?: true
  root?: Uint8Array
  levels?: LevelSummary[]
  /** Each level file's CID bytes and cumulative size. */
  files?: Array<{ cid: Uint8Array, tsize: number }>
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
  files: LevelTarget[]
  blocks: Block[]
  pixels: number
  meta: ImageMeta
}

/** What the worker runs (src/codec/worker.ts loads this module by its URL). */
export async function runTask (input: ImageTaskInput, codec: TaskCodec): Promise<TaskOutput> {
  let image: RasterImage
  let meta: ImageMeta
  if (input.path != null) {
    const file = await readInputBytes(input.path)
    if (sniffFormat(file.subarray(0, 64)) !== 'png') return { value: { notPng: true } satisfies PackedImage }
    const item = readPngBytes(input.path, file)
    if (item.kind !== 'image') return { value: { notPng: true } satisfies PackedImage }
    ;({ image, meta } = item)
  } else {
    image = input.image as RasterImage
    meta = input.meta as ImageMeta
  }
  const codestream = codec.encode(image, { decompositions: input.decompositions })
  const dag = await buildImageDag(codestream, image, meta, { name: input.name ?? input.path })
  const total = dag.blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
  const bytes = new Uint8Array(total)
  const ends: number[] = []
  let at = 0
  for (const b of dag.blocks) {
    bytes.set(b.bytes, at)
    at += b.bytes.byteLength
    ends.push(at)
  }
  const value: PackedImage = { root: dag.root.bytes, levels: dag.levels, files: dag.files.map(f => ({ cid: f.cid.bytes, tsize: f.tsize })), pixels: image.width * image.height, meta, cids: dag.blocks.map(b => b.cid.bytes), ends, bytes }
  return { value, transfer: [bytes.buffer as ArrayBuffer] }
}

const MODULE = jobModuleUrl(import.meta.url)

/** Has every worker of `pool` start now and import this module, while the caller collects its inputs. */
export function preloadImageTask (pool: CodecPool): void {
  pool.preload(MODULE)
}

/** Whether a file is sent to publishImageOnPool (a worker still checks its bytes). */
export function isPngPath (path: string): boolean {
  return path.toLowerCase().endsWith('.png')
}

/**
 * Decodes, encodes and chunks the PNG at `path` on a worker of `pool`; undefined when the file
 * is not a PNG after all. Errors are those the main-thread path throws (InvalidInputError …).
 */
export async function publishPngOnPool (pool: CodecPool, input: { path: string, decompositions?: number }, options: AbortOptions = {}): Promise<PublishedImage | undefined> {
  return await unpack(await pool.runTask<PackedImage>(MODULE, input, { signal: options.signal }))
}

/**
 * Encodes and chunks an image already read (a volume's slice, a DICOM or NIfTI image) on a
 * worker: the same root and blocks as encode + buildImageDag here. The image's samples are
 * copied once into a buffer given to the worker (the caller's array stays usable).
 */
export async function publishImageOnPool (pool: CodecPool, image: RasterImage, meta: ImageMeta, options: AbortOptions & { name: string, decompositions?: number }): Promise<PublishedImage> {
  if (image == null || !ArrayBuffer.isView(image.data)) throw new CodecError('cannot encode: image.data must be a typed array of samples')
  const data = ownBuffer(image.data, false)
  const input: ImageTaskInput = { image: { ...image, data }, meta, name: options.name, decompositions: options.decompositions }
  return await unpack(await pool.runTask<PackedImage>(MODULE, input, { signal: options.signal, transfer: [data.buffer as ArrayBuffer] })) as PublishedImage
}

/** An exact-size copy in a buffer of its own (a Node Buffer may share its memory with others). */
function unpack (got: PackedImage): PublishedImage | undefined {
  if (got.notPng === true) return undefined
  const { root, levels, files, pixels, meta, cids, ends, bytes } = got as Required<PackedImage>
  const blocks: Block[] = cids.map((cid, i) => ({ cid: CID.decode(cid), bytes: bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]) }))
  return { root: CID.decode(root), levels, files: files.map(f => ({ cid: CID.decode(f.cid), tsize: f.tsize })), blocks, pixels, meta }
}
