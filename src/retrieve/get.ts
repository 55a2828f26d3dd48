import type { CID } from 'multiformats/cid'
import type { ImageRoot, VolumeRoot } from '../chunker/index.js'
import { UsageError } from '../errors.js'
import { openRoot, planEntry, type EntryPlan } from '../level/plan.js'
import type { LevelSelection } from '../level/select.js'
import type { BlockSource } from '../repo/index.js'
import type { ImageMeta, RasterImage, VolumeMeta } from '../types.js'
import { decodeImageLevel, type DecodeOptions, type ImageLevel } from './image-level.js'
import { volumeLevelSlices, type VolumeSliceOptions } from './volume-slices.js'

export interface GetOptions extends LevelSelection, DecodeOptions {}

export interface ImageResult extends ImageLevel {
  cid: CID
  root: ImageRoot
  meta: ImageMeta
}

/** The plan of a lone image or volume root at the selected level. */
async function planRoot (source: BlockSource, cid: CID, options: GetOptions): Promise<EntryPlan> {
  const top = await openRoot(source, cid, options)
  if (top.kind === 'dataset') throw new UsageError(`${cid} is a dataset; use retrieve, or get one of its entries`)
  return planEntry(source, { name: cid.toString(), cid, clamp: false, root: top }, options, options)
}

/** Library API: the pixels of one image at the selected level. */
export async function getImage (source: BlockSource, cid: CID, options: GetOptions = {}): Promise<ImageResult> {
  const plan = await planRoot(source, cid, options)
  if (plan.kind !== 'image') throw new UsageError(`${cid} is a ${plan.kind}, not a 2D image; use getVolume`)
  const result = await decodeImageLevel(source, plan, options)
  return { ...result, cid, root: plan.root, meta: plan.root.meta }
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

/** Library API: every slice of a volume at the selected level, in z order, held in memory (volumeLevelSlices streams them). */
export async function getVolume (source: BlockSource, cid: CID, options: GetOptions & VolumeSliceOptions = {}): Promise<VolumeResult> {
  const plan = await planRoot(source, cid, options)
  if (plan.kind !== 'volume') throw new UsageError(`${cid} is a ${plan.kind}, not a volume`)
  const slices: RasterImage[] = []
  const codestreams: Uint8Array[] = []
  for await (const s of volumeLevelSlices(source, plan, options)) {
    slices.push(s.image)
    codestreams.push(s.codestream)
  }
  return { cid, root: plan.root, level: plan.level, meta: plan.root.meta, slices, codestreams }
}
