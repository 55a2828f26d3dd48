/**
 * Siemens mosaics: one DICOM image holding the slices of a volume as tiles of
 * a square grid (fMRI and diffusion EPI). The number of slices is the CSA
 * header's NumberOfImagesInMosaic; the grid has ceil(sqrt(n)) tiles per side,
 * filled row by row, tile k = slice k. ImagePositionPatient of a mosaic is the
 * corner of the whole mosaic, so the first slice's corner is moved by half the
 * mosaic size less half a tile along rows and columns (the correction dcm2niix
 * and dicm2nii apply). Slices run along the CSA SliceNormalVector.
 */
import type { DataSet } from 'dicom-parser'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { ImageMeta, InputItem, RasterImage } from '../../types.js'
import { csaNumber, csaNumbers, parseCsaHeader, type CsaHeader } from './csa.js'
import { imageToVolumeMeta } from '../image-to-volume.js'

/** Smallest tile side accepted (real mosaics have tiles of 32 pixels or more). */
const MIN_TILE = 4

/** What the header says about a mosaic. */
export interface MosaicInfo {
  /** Slices in the mosaic. */
  images: number
  /** CSA SliceNormalVector (LPS) when present. */
  normal?: number[]
}

/** The CSA image header of a data set, if it has one ((0029,xx10) of the "SIEMENS CSA HEADER" private block). */
export function csaImageHeader (ds: DataSet): CsaHeader | undefined {
  let block = 0x10
  for (let b = 0x10; b <= 0xff; b++) {
    if (ds.string(`x002900${b.toString(16).padStart(2, '0')}`)?.trim() === 'SIEMENS CSA HEADER') { block = b; break }
  }
  const el = ds.elements[`x0029${block.toString(16).padStart(2, '0')}10`]
  if (el == null || el.length <= 0 || el.dataOffset + el.length > ds.byteArray.length) return undefined
  return parseCsaHeader(ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length))
}

/** Mosaic layout of a single-frame image: undefined unless ImageType says MOSAIC and the CSA header (or the (0019,100A) private tag) gives more than one slice. */
export function mosaicInfo (ds: DataSet): MosaicInfo | undefined {
  const type = (ds.string('x00080008') ?? '').toUpperCase().split('\\').map(s => s.trim())
  if (!type.includes('MOSAIC')) return undefined
  const csa = csaImageHeader(ds)
  const images = (csa != null ? csaNumber(csa, 'NumberOfImagesInMosaic') : undefined) ?? ds.uint16('x0019100a')
  if (images == null || !Number.isInteger(images) || images < 2) return undefined
  const normal = csa != null ? csaNumbers(csa, 'SliceNormalVector', 3) : undefined
  return normal != null ? { images, normal } : { images }
}

/**
 * The volume of a mosaic image: tiles cut out exactly (no resampling), slice k
 * from tile k. `ds` gives the slice spacing (SpacingBetweenSlices, else SliceThickness).
 */
export function demosaic (label: string, ds: DataSet, mosaic: RasterImage, meta: ImageMeta, info: MosaicInfo): InputItem {
  const grid = Math.ceil(Math.sqrt(info.images))
  // tiles of a few pixels are a corrupt count, not an acquisition (and would make millions of slices)
  if (mosaic.width % grid !== 0 || mosaic.height % grid !== 0 || mosaic.width / grid < MIN_TILE || mosaic.height / grid < MIN_TILE) {
    throw new InvalidInputError(`${label}: a ${mosaic.width}x${mosaic.height} mosaic cannot hold ${info.images} slices on a ${grid}x${grid} grid of tiles of at least ${MIN_TILE}x${MIN_TILE} pixels (CSA NumberOfImagesInMosaic is wrong)`)
  }
  if (meta.orientation?.length !== 6 || meta.position?.length !== 3) {
    throw new UnsupportedInputError(`${label}: mosaic without ImageOrientationPatient/ImagePositionPatient: its slices cannot be placed`)
  }
  const tw = mosaic.width / grid
  const th = mosaic.height / grid
  const c = mosaic.components
  const tile = (k: number): RasterImage => {
    const data = new (mosaic.data.constructor as new (n: number) => RasterImage['data'])(tw * th * c)
    const x0 = (k % grid) * tw
    const y0 = Math.floor(k / grid) * th
    for (let y = 0; y < th; y++) {
      const from = ((y0 + y) * mosaic.width + x0) * c
      data.set(mosaic.data.subarray(from, from + tw * c), y * tw * c)
    }
    return { ...mosaic, width: tw, height: th, data }
  }
  const first = tile(0)
  const volume = imageToVolumeMeta(first, meta)
  const [dc, dr] = meta.spacing ?? [1, 1]
  const o = meta.orientation
  const p = meta.position
  const fx = (mosaic.width - tw) / 2
  const fy = (mosaic.height - th) / 2
  const corner = [0, 1, 2].map(i => p[i] + o[i] * dc * fx + o[3 + i] * dr * fy)
  let normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
  const csaNormal = info.normal
  if (csaNormal != null && normal[0] * csaNormal[0] + normal[1] * csaNormal[1] + normal[2] * csaNormal[2] < 0) normal = normal.map(v => -v)
  const dzText = Number(ds.string('x00180088') ?? ds.string('x00180050') ?? '1')
  const dz = Number.isFinite(dzText) && dzText > 0 ? dzText : 1
  // LPS -> RAS: negate x and y
  volume.affine[2] = -normal[0] * dz
  volume.affine[6] = -normal[1] * dz
  volume.affine[10] = normal[2] * dz
  volume.affine[3] = -corner[0]
  volume.affine[7] = -corner[1]
  volume.affine[11] = corner[2]
  volume.dims = [tw, th, info.images]
  volume.spacing = [dc, dr, dz]
  volume.sourceFormat = 'dicom'
  if (meta.lossySource === true) volume.lossySource = true
  return {
    kind: 'volume',
    meta: volume,
    sliceCount: info.images,
    slices: async function * () {
      yield first
      for (let k = 1; k < info.images; k++) yield tile(k)
    }
  }
}
