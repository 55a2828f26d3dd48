/**
 * A 2D image described as a one-slice volume, so it can be written as NIfTI.
 */
import type { ImageMeta, RasterImage, VolumeMeta } from '../types.js'
import { UnsupportedInputError } from '../errors.js'

/**
 * VolumeMeta of a single image (nz = 1). With DICOM orientation and position,
 * the affine maps (column, row) to patient space converted from LPS to RAS
 * (qform/sform code 1, scanner); otherwise it is diag(spacing) (code 2, aligned).
 */
export function imageToVolumeMeta (image: RasterImage, meta: ImageMeta): VolumeMeta {
  const [dc, dr] = meta.spacing ?? [1, 1]
  const dtype = image.components === 3
    ? 'rgb24'
    : `${image.signed ? 'int' : 'uint'}${image.bitsStored <= 8 ? 8 : 16}`
  if (image.components !== 1 && !(image.components === 3 && image.bitsStored <= 8 && !image.signed)) {
    throw new UnsupportedInputError(`imageToVolumeMeta: ${image.components}-component ${image.bitsStored}-bit images cannot be written as NIfTI yet`)
  }
  let affine: number[]
  let code: number
  if (meta.orientation?.length === 6 && meta.position?.length === 3) {
    const [x0, x1, x2, y0, y1, y2] = meta.orientation
    const z = [x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0]
    const p = meta.position
    // LPS -> RAS: negate the first two rows.
    affine = [
      -x0 * dc, -y0 * dr, -z[0], -p[0],
      -x1 * dc, -y1 * dr, -z[1], -p[1],
      x2 * dc, y2 * dr, z[2], p[2],
      0, 0, 0, 1
    ]
    code = 1
  } else {
    affine = [dc, 0, 0, 0, 0, dr, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    code = 2
  }
  const volume: VolumeMeta = {
    sourceFormat: meta.sourceFormat,
    dims: [image.width, image.height, 1],
    spacing: [dc, dr, 1],
    affine,
    dtype,
    nifti: { qformCode: code, sformCode: code, xyztUnits: 2 }
  }
  if (meta.modality != null) volume.modality = meta.modality
  if (meta.rescale != null && !(meta.rescale.slope === 1 && meta.rescale.intercept === 0)) volume.rescale = { ...meta.rescale }
  return volume
}
