/**
 * Samples of more than 16 bits (int32, uint32, float32, float64) onto the
 * 16-bit integers the codec takes, and back.
 *
 * Lossless when every value v is exactly intercept + slope * k for an integer
 * k in a 16-bit range, once cast back to the source dtype: integer values
 * within int16 or uint16 (identity), integers spanning at most 65536 values
 * (offset), or values on an exact regular grid found from the distinct values
 * (slope and offset). Otherwise UnsupportedInputError, unless `quantize`:
 * then a linear map of [min, max] onto 0..65535, with the largest absolute
 * error measured over every value.
 */
import { UnsupportedInputError } from '../errors.js'
import type { ValueMapping } from '../types.js'

/** Typed arrays mapTo16 accepts. */
export type SourceArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array

/** Result of mapTo16. */
export interface Mapped16 {
  data: Int16Array | Uint16Array
  bitsStored: number
  signed: boolean
  mapping: ValueMapping
  maxAbsError: number
}

const DTYPES: Record<string, string> = {
  Int8Array: 'int8', Uint8Array: 'uint8', Int16Array: 'int16', Uint16Array: 'uint16', Int32Array: 'int32', Uint32Array: 'uint32', Float32Array: 'float32', Float64Array: 'float64'
}

/** Source dtype name of a typed array ('float32', ...). */
export function dtypeOf (values: SourceArray): string {
  return DTYPES[values.constructor.name]
}

/** How a number is stored back in the source dtype. */
function caster (dtype: string): (x: number) => number {
  if (dtype === 'float32') return Math.fround
  if (dtype === 'float64') return x => x
  return Math.round
}

/** Maps the values onto 16-bit integers; see the module comment. `label` names the source in errors. */
export function mapTo16 (values: SourceArray, options?: { quantize?: boolean, label?: string }): Mapped16 {
  const label = options?.label ?? 'mapTo16'
  const dtype = dtypeOf(values)
  let min = Infinity
  let max = -Infinity
  let integers = true
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) throw new UnsupportedInputError(`${label}: ${dtype} data holds ${String(v)} at sample ${i}: NaN and infinities cannot be published`)
    if (v < min) min = v
    if (v > max) max = v
    if (integers && !Number.isInteger(v)) integers = false
  }
  if (values.length === 0) { min = 0; max = 0 }
  if (integers && min >= -32768 && max <= 32767 && min < 0) return build(values, dtype, 1, 0, true)
  if (integers && min >= 0 && max <= 65535) return build(values, dtype, 1, 0, false)
  if (integers && max - min <= 65535) return build(values, dtype, 1, min, false)
  const grid = integers ? undefined : regularGrid(values, min, max, dtype)
  if (grid != null) return build(values, dtype, grid, min, false)
  if (options?.quantize !== true) {
    const what = integers ? `integers spanning ${min}..${max} (more than 65536 values)` : `values ${min}..${max} that lie on no regular grid of at most 65536 steps`
    throw new UnsupportedInputError(`${label}: ${dtype} ${what} cannot be mapped to 16 bits without loss; pass --quantize to map them linearly to 16 bits (the largest error is then measured and reported)`)
  }
  return build(values, dtype, max > min ? (max - min) / 65535 : 1, min, false)
}

/** An exact step s such that every value is min + k s (k integer <= 65535), or undefined. */
function regularGrid (values: SourceArray, min: number, max: number, dtype: string): number | undefined {
  const distinct = new Set<number>()
  for (let i = 0; i < values.length; i++) {
    distinct.add(values[i])
    if (distinct.size > 65536) return undefined
  }
  const sorted = [...distinct].sort((a, b) => a - b)
  const tolerance = (max - min) * 1e-9 + Number.EPSILON
  let step = 0
  for (let i = 1; i < sorted.length; i++) step = floatGcd(step, sorted[i] - sorted[i - 1], tolerance)
  if (step <= 0 || (max - min) / step > 65535.5) return undefined
  const cast = caster(dtype)
  for (const v of sorted) if (cast(min + Math.round((v - min) / step) * step) !== v) return undefined
  return step
}

function floatGcd (a: number, b: number, tolerance: number): number {
  if (a === 0) return b
  for (let i = 0; i < 64 && b > tolerance; i++) [a, b] = [b, a % b]
  return a
}

function build (values: SourceArray, dtype: string, slope: number, intercept: number, signed: boolean): Mapped16 {
  const n = values.length
  const data = signed ? new Int16Array(n) : new Uint16Array(n)
  const cast = caster(dtype)
  let top = 0
  let maxAbsError = 0
  for (let i = 0; i < n; i++) {
    const k = Math.min(Math.max(Math.round((values[i] - intercept) / slope), signed ? -32768 : 0), signed ? 32767 : 65535)
    data[i] = k
    if (Math.abs(k) > top) top = Math.abs(k)
    const err = Math.abs(cast(intercept + k * slope) - values[i])
    if (err > maxAbsError) maxAbsError = err
  }
  const bitsStored = signed ? 16 : Math.max(1, Math.ceil(Math.log2(top + 1)))
  return { data, bitsStored, signed, mapping: { slope, intercept, dtype, maxAbsError }, maxAbsError }
}

/** Restores source-dtype values from 16-bit samples: exactly when the mapping was lossless, within maxAbsError otherwise. */
export function unmap16 (data: Int16Array | Uint16Array, mapping: Pick<ValueMapping, 'slope' | 'intercept' | 'dtype'>): SourceArray {
  const Ctor = ({ int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array } as Record<string, new (n: number) => SourceArray>)[mapping.dtype]
  if (Ctor == null) throw new UnsupportedInputError(`unmap16: unknown dtype ${mapping.dtype}`)
  const out = new Ctor(data.length)
  const cast = caster(mapping.dtype)
  for (let i = 0; i < data.length; i++) out[i] = cast(mapping.intercept + data[i] * mapping.slope)
  return out
}
