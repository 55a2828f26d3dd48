import type { CID } from 'multiformats/cid'
import type { ImageRoot, VolumeRoot } from '../chunker/index.js'
import { UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { ImageMeta, RasterImage, VolumeMeta } from '../types.js'
import { decodeImageLevel, type GetOptions, type ImageLevel } from './image-level.js'
import { readRoot } from './read-root.js'
import { chooseLevel } from './select.js'
import { volumeLevelSlices, type VolumeSliceOptions } from './volume-slices.js'

export { decodeImageLevel, type GetOptions, type ImageLevel } from './image-level.js'

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

/** Library API: every slice of a volume at the selected level, in z order, held in memory (volumeLevelSlices streams them). */
export async function getVolume (source: BlockSource, cid: CID, options: VolumeSliceOptions = {}): Promise<VolumeResult> {
  const found = await readRoot(source, cid, options)
  if (found.kind !== 'volume') throw new UsageError(`${cid} is a ${found.kind}, not a volume`)
  return getVolumeFromRoot(source, cid, found.root, options)
}

/** Every slice of a volume whose root is already read, at the selected level; see volumeLevelSlices to take them one by one. */
export async function getVolumeFromRoot (source: BlockSource, cid: CID, root: VolumeRoot, options: VolumeSliceOptions = {}): Promise<VolumeResult> {
  const level = chooseLevel(root.levels, options, { name: options.name ?? cid.toString() })
  const slices: RasterImage[] = []
  const codestreams: Uint8Array[] = []
  for await (const s of volumeLevelSlices(source, cid, root, level, options)) {
    slices.push(s.image)
    codestreams.push(s.codestream)
  }
  return { cid, root, level, meta: root.meta, slices, codestreams }
}
