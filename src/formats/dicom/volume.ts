/**
 * A multi-frame DICOM image as a volume: one slice per frame, geometry from
 * the top-level attributes (SpacingBetweenSlices, else SliceThickness).
 */
import type { DataSet } from 'dicom-parser'
import type { ImageMeta, InputItem, RasterImage } from '../../types.js'
import { imageToVolumeMeta } from '../image-to-volume.js'

/** The volume item; frames after the first are decoded when slices() reaches them. */
export function multiFrameVolume (ds: DataSet, meta: ImageMeta, first: RasterImage, frames: number, frame: (i: number) => Promise<RasterImage>): InputItem {
  const volume = imageToVolumeMeta(first, meta)
  const dz = Number(ds.string('x00180088') ?? ds.string('x00180050') ?? '1')
  const sz = Number.isFinite(dz) && dz > 0 ? dz : 1
  volume.dims = [first.width, first.height, frames]
  volume.spacing = [volume.spacing[0], volume.spacing[1], sz]
  for (const r of [0, 1, 2]) volume.affine[4 * r + 2] *= sz
  volume.sourceFormat = 'dicom'
  if (meta.lossySource === true) volume.lossySource = true
  return {
    kind: 'volume',
    meta: volume,
    sliceCount: frames,
    slices: async function * () {
      yield first
      for (let i = 1; i < frames; i++) yield await frame(i)
    }
  }
}
