/**
 * The whitelist of DICOM attributes that may leave the machine: technical
 * image geometry and encoding only. Never names, IDs, dates, institutions or UIDs
 * of patients/studies (the transfer syntax UID is a standard constant, not an identifier).
 */
import type { DataSet } from 'dicom-parser'
import type { ImageMeta } from '../../types.js'

/** Builds ImageMeta from a parsed data set using only whitelisted tags. */
export function dicomImageMeta (ds: DataSet, transferSyntax: string, bitsAllocated: number): ImageMeta {
  const meta: ImageMeta = { sourceFormat: 'dicom', transferSyntax, bitsAllocated }
  const modality = ds.string('x00080060')
  if (modality != null && /^[A-Z0-9_ ]{1,16}$/.test(modality)) meta.modality = modality
  const photometric = ds.string('x00280004')
  if (photometric != null) meta.photometric = photometric
  const ps = numbers(ds, 'x00280030') ?? numbers(ds, 'x00181164')
  // DICOM stores row spacing (between rows) first, then column spacing.
  if (ps != null && ps.length >= 2) meta.spacing = [ps[1], ps[0]]
  const orientation = numbers(ds, 'x00200037')
  if (orientation != null && orientation.length === 6) meta.orientation = orientation
  const position = numbers(ds, 'x00200032')
  if (position != null && position.length === 3) meta.position = position
  const slope = numbers(ds, 'x00281053')?.[0]
  const intercept = numbers(ds, 'x00281052')?.[0]
  if (slope != null || intercept != null) meta.rescale = { slope: slope ?? 1, intercept: intercept ?? 0 }
  return meta
}

/** A backslash-separated decimal string (DS) as numbers; undefined when absent or not numeric. */
function numbers (ds: DataSet, tag: string): number[] | undefined {
  const text = ds.string(tag)
  if (text == null || text === '') return undefined
  const values = text.split('\\').map(s => Number(s.trim()))
  return values.every(Number.isFinite) ? values : undefined
}
