/**
 * Normalise technical metadata before it goes into a dag-cbor root.
 *
 * Only whitelisted technical fields survive: unknown keys are dropped (so a
 * reader that passes a patient name by mistake never publishes it), strings are
 * length-limited and must be printable ASCII, numbers must be finite (dag-cbor
 * cannot encode NaN or Infinity) and -0 becomes 0. A field that fails its check
 * is dropped, never half-kept. The same function validates a decoded root, so
 * what is written and what is accepted are the same set.
 */
import type { ImageMeta, VolumeMeta } from '../types.js'

/** Longest string kept in metadata (a DICOM UID is at most 64 characters). */
export const MAX_META_STRING = 64

function str (v: unknown, max = MAX_META_STRING): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= max && /^[\x20-\x7e]*$/.test(v) ? v : undefined
}

/** A finite number with -0 turned into 0, else undefined. */
export function finite (v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
  return Object.is(v, -0) ? 0 : v
}

function int (v: unknown, min: number, max: number): number | undefined {
  const n = finite(v)
  return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? n : undefined
}

function nums (v: unknown, length: number): number[] | undefined {
  if (!Array.isArray(v) || v.length !== length) return undefined
  const out = v.map(finite)
  return out.every((x): x is number => x !== undefined) ? out : undefined
}

function rescale (v: unknown): { slope: number, intercept: number } | undefined {
  if (v == null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  const slope = finite(o.slope)
  const intercept = finite(o.intercept)
  return slope !== undefined && intercept !== undefined ? { slope, intercept } : undefined
}

/** Copy `fields` into a new object, leaving out the undefined ones. */
function compact<T extends object> (fields: Record<string, unknown>): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v
  return out as T
}

/** The whitelisted, dag-cbor-safe subset of an ImageMeta. `sourceFormat` defaults to 'unknown'. */
export function normaliseImageMeta (meta: unknown): ImageMeta {
  const m = (meta != null && typeof meta === 'object' ? meta : {}) as Record<string, unknown>
  return compact<ImageMeta>({
    sourceFormat: str(m.sourceFormat, 16) ?? 'unknown',
    modality: str(m.modality, 16),
    transferSyntax: str(m.transferSyntax) !== undefined && /^[0-9.]+$/.test(m.transferSyntax as string) ? m.transferSyntax : undefined,
    photometric: str(m.photometric, 16),
    spacing: nums(m.spacing, 2),
    orientation: nums(m.orientation, 6),
    position: nums(m.position, 3),
    rescale: rescale(m.rescale),
    bitsAllocated: int(m.bitsAllocated, 1, 64)
  })
}

/** The whitelisted, dag-cbor-safe subset of a VolumeMeta; undefined if a required field is missing or invalid. */
export function normaliseVolumeMeta (meta: unknown): VolumeMeta | undefined {
  const m = (meta != null && typeof meta === 'object' ? meta : {}) as Record<string, unknown>
  const dims = nums(m.dims, 3)
  const spacing = nums(m.spacing, 3)
  const affine = nums(m.affine, 16)
  const dtype = str(m.dtype, 16)
  if (dims === undefined || !dims.every(d => Number.isInteger(d) && d >= 1) || spacing === undefined || affine === undefined || dtype === undefined) return undefined
  let nifti: VolumeMeta['nifti']
  if (m.nifti != null && typeof m.nifti === 'object') {
    const n = m.nifti as Record<string, unknown>
    const qformCode = int(n.qformCode, -32768, 32767)
    const sformCode = int(n.sformCode, -32768, 32767)
    const xyztUnits = int(n.xyztUnits, 0, 255)
    if (qformCode !== undefined && sformCode !== undefined && xyztUnits !== undefined) {
      nifti = compact<NonNullable<VolumeMeta['nifti']>>({ qformCode, sformCode, xyztUnits, quatern: nums(n.quatern, 3), qoffset: nums(n.qoffset, 3), qfac: finite(n.qfac) })
    }
  }
  return compact<VolumeMeta>({
    sourceFormat: str(m.sourceFormat, 16) ?? 'unknown',
    modality: str(m.modality, 16),
    dims: dims as [number, number, number],
    spacing: spacing as [number, number, number],
    affine,
    dtype,
    rescale: rescale(m.rescale),
    nifti
  })
}
