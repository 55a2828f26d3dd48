import type { CID } from 'multiformats/cid'
import { levelPlan, volumeSlices, type ImageRoot, type VolumeRoot } from '../chunker/index.js'
import { getDefaultPool, type CodecPool } from '../codec/index.js'
import { FormatError, UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { ImageMeta, RasterImage, VolumeMeta } from '../types.js'
import { fetchLevelCodestream } from './fetch-level.js'
import { readRoot } from './read-root.js'
import { toSourceSamples } from './samples.js'
import { chooseLevel, type LevelSelection } from './select.js'

export interface GetOptions extends LevelSelection {
  signal?: AbortSignal
  pool?: CodecPool
  /** Called with each block's size as it arrives (progress). */
  onBytes?: (bytes: number) => void
  /** Names the image in errors. */
  name?: string
}

export interface ImageLevel {
  level: number
  /** Decoded pixels in the source's sample type. */
  image: RasterImage
  /** The level's codestream (prefix + EOC), a valid J2C file. */
  codestream: Uint8Array
}

/** Fetches and decodes one level of an image root. */
export async function decodeImageLevel (source: BlockSource, cid: CID, root: ImageRoot, level: number, options: GetOptions = {}): Promise<ImageLevel> {
  const plan = levelPlan(root, level)
  const codestream = await fetchLevelCodestream(source, cid, root, level, options)
  const pool = options.pool ?? getDefaultPool()
  const decoded = await pool.decode(codestream, { reduce: plan.reduce, signal: options.signal })
  if (decoded.width !== plan.width || decoded.height !== plan.height || decoded.components !== root.components) {
    throw new FormatError(`${options.name ?? cid}: level ${level} decodes to ${decoded.width}x${decoded.height}x${decoded.components} but the root says ${plan.width}x${plan.height}x${root.components}`)
  }
  return { level, image: toSourceSamples(decoded, root), codestream }
}

export interface ImageResult extends ImageLevel {
  cid: CID
  root: ImageRoot
  meta: ImageMeta
}

/** Library API: the pixels of one image at the selected level. */
export async function getImage (source: BlockSource, cid: CID, options: GetOptions = {}): Promise<ImageResult> {
  const found = await readRoot(source, cid, options)
  if (found.kind !== 'image') throw new UsageError(`${cid} is a ${found.kind}, not a 2D image; use getVolume or getDataset`)
  const level = chooseLevel(found.root.levels, options, { name: options.name ?? cid.toString() })
  const result = await decodeImageLevel(source, cid, found.root, level, options)
  return { ...result, cid, root: found.root, meta: found.root.meta }
}

export interface VolumeResult {
  cid: CID
  root: VolumeRoot
  level: number
  /** Source volume metadata (dims and affine of the full level; writers scale them to `level`). */
  meta: VolumeMeta
  slices: RasterImage[]
  /** The level codestream of each slice. */
  codestreams: Uint8Array[]
}

/** Library API: every slice of a volume at the selected level, in z order. */
export async function getVolume (source: BlockSource, cid: CID, options: GetOptions & { concurrency?: number } = {}): Promise<VolumeResult> {
  const found = await readRoot(source, cid, options)
  if (found.kind !== 'volume') throw new UsageError(`${cid} is a ${found.kind}, not a volume`)
  return getVolumeFromRoot(source, cid, found.root, options)
}

export async function getVolumeFromRoot (source: BlockSource, cid: CID, root: VolumeRoot, options: GetOptions & { concurrency?: number, keepCodestreams?: boolean } = {}): Promise<VolumeResult> {
  const name = options.name ?? cid.toString()
  const level = chooseLevel(root.levels, options, { name })
  const getBlock = async (c: CID): Promise<Uint8Array> => source.get(c, options)
  const sliceCids: CID[] = []
  for await (const s of volumeSlices(root, getBlock)) sliceCids.push(s)
  const slices: RasterImage[] = new Array(sliceCids.length)
  const codestreams: Uint8Array[] = new Array(sliceCids.length)
  const concurrency = options.concurrency ?? 16
  let next = 0
  let failed = false
  const worker = async (): Promise<void> => {
    while (next < sliceCids.length && !failed) {
      const z = next++
      const sliceRoot = await readRoot(source, sliceCids[z], options)
      if (sliceRoot.kind !== 'image') throw new FormatError(`${name}: slice ${z} (${sliceCids[z]}) is a ${sliceRoot.kind}, not an image`)
      const got = await decodeImageLevel(source, sliceCids[z], sliceRoot.root, level, { ...options, name: `${name} slice ${z}` })
      slices[z] = got.image
      // only the j2c and dcm outputs need them: a NIfTI or npy output does not hold a second copy of the volume
      if (options.keepCodestreams !== false) codestreams[z] = got.codestream
    }
  }
  // the first failure stops the other workers from starting new slices
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, sliceCids.length)) }, async () => worker().catch(err => { failed = true; throw err })))
  return { cid, root, level, meta: root.meta, slices, codestreams }
}
