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
import type { ImageMeta, ValueMapping, VolumeMeta } from '../types.js'

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

/** Source dtypes a value mapping may name (value-map.ts). */
export const MAPPED_DTYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const

function valueMapping (v: unknown): ValueMapping | undefined {
  if (v == null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  const slope = finite(o.slope)
  const intercept = finite(o.intercept)
  const maxAbsError = finite(o.maxAbsError)
  const dtype = typeof o.dtype === 'string' && (MAPPED_DTYPES as readonly string[]).includes(o.dtype) ? o.dtype : undefined
  if (slope === undefined || slope === 0 || intercept === undefined || maxAbsError === undefined || maxAbsError < 0 || dtype === undefined) return undefined
  return { slope, intercept, dtype, maxAbsError }
}

function bool (v: unknown): true | undefined {
  return v === true ? true : undefined
}

function frame (v: unknown): { index: number, count: number } | undefined {
  if (v == null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  const count = int(o.count, 1, 2 ** 31 - 1)
  const index = count === undefined ? undefined : int(o.index, 0, count - 1)
  return count !== undefined && index !== undefined ? { index, count } : undefined
}

/** Longest NIfTI free-text field kept (descrip is 80 bytes). */
export const MAX_TEXT_STRING = 80

/** The free-text NIfTI fields that are short printable strings; binary extensions are never published. */
function text (v: unknown): VolumeMeta['text'] | undefined {
  if (v == null || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  const out = compact<NonNullable<VolumeMeta['text']>>({ descrip: str(o.descrip, MAX_TEXT_STRING), auxFile: str(o.auxFile, 24), intentName: str(o.intentName, 16) })
  return Object.keys(out).length > 0 ? out : undefined
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
    bitsAllocated: int(m.bitsAllocated, 1, 64),
    lossySource: bool(m.lossySource),
    valueMapping: valueMapping(m.valueMapping)
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
    nifti,
    lossySource: bool(m.lossySource),
    valueMapping: valueMapping(m.valueMapping),
    frame: frame(m.frame),
    text: text(m.text)
  })
}
