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

/** What one pass over the values learns: enough to choose the mapping (scanValues, planMapping). */
export interface ValueStats {
  dtype: string
  min: number
  max: number
  integers: boolean
  /** The distinct values while there are at most 65536 of them (undefined after). */
  distinct: Set<number> | undefined
  count: number
}

/** The 16-bit mapping chosen for the values of a ValueStats (applyMapping applies it). */
export interface MappingPlan {
  dtype: string
  slope: number
  intercept: number
  signed: boolean
  bitsStored: number
  /** Every value maps back exactly (maxAbsError 0); false for a quantized mapping. */
  exact: boolean
}

export function newValueStats (dtype: string): ValueStats {
  return { dtype, min: Infinity, max: -Infinity, integers: true, distinct: new Set(), count: 0 }
}

/** Adds a chunk of values to `stats` (chunks in any order); NaN and infinities are refused. */
export function scanValues (stats: ValueStats, values: SourceArray, label = 'mapTo16'): void {
  let { min, max, integers, distinct } = stats
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) throw new UnsupportedInputError(`${label}: ${stats.dtype} data holds ${String(v)} at sample ${stats.count + i}: NaN and infinities cannot be published`)
    if (v < min) min = v
    if (v > max) max = v
    if (integers && !Number.isInteger(v)) integers = false
    if (distinct != null) {
      distinct.add(v)
      if (distinct.size > 65536) distinct = undefined
    }
  }
  Object.assign(stats, { min, max, integers, distinct, count: stats.count + values.length })
}

/** Chooses the mapping (see the module comment); throws UnsupportedInputError when none is exact and `quantize` is off. */
export function planMapping (stats: ValueStats, options?: { quantize?: boolean, label?: string }): MappingPlan {
  const label = options?.label ?? 'mapTo16'
  const { dtype, integers } = stats
  const min = stats.count === 0 ? 0 : stats.min
  const max = stats.count === 0 ? 0 : stats.max
  const plan = (slope: number, intercept: number, signed: boolean, exact = true): MappingPlan => {
    // k is monotonic in the value: its largest magnitude is at min or max
    const k = (v: number): number => Math.min(Math.max(Math.round((v - intercept) / slope), signed ? -32768 : 0), signed ? 32767 : 65535)
    const top = Math.max(Math.abs(k(min)), Math.abs(k(max)))
    return { dtype, slope, intercept, signed, bitsStored: signed ? 16 : Math.max(1, Math.ceil(Math.log2(top + 1))), exact }
  }
  if (integers && min >= -32768 && max <= 32767 && min < 0) return plan(1, 0, true)
  if (integers && min >= 0 && max <= 65535) return plan(1, 0, false)
  if (integers && max - min <= 65535) return plan(1, min, false)
  const grid = integers || stats.distinct == null ? undefined : regularGrid(stats.distinct, min, max, dtype)
  if (grid != null) return plan(grid, min, false)
  if (options?.quantize !== true) {
    const what = integers ? `integers spanning ${min}..${max} (more than 65536 values)` : `values ${min}..${max} that lie on no regular grid of at most 65536 steps`
    throw new UnsupportedInputError(`${label}: ${dtype} ${what} cannot be mapped to 16 bits without loss; pass --quantize to map them linearly to 16 bits (the largest error is then measured and reported)`)
  }
  return plan(max > min ? (max - min) / 65535 : 1, min, false, false)
}

/** The largest error `plan` makes on a chunk of values, without mapping them (a measuring pass). */
export function mappingError (plan: MappingPlan, values: SourceArray): number {
  const { slope, intercept, signed } = plan
  const cast = caster(plan.dtype)
  let maxAbsError = 0
  for (let i = 0; i < values.length; i++) {
    const k = Math.min(Math.max(Math.round((values[i] - intercept) / slope), signed ? -32768 : 0), signed ? 32767 : 65535)
    const err = Math.abs(cast(intercept + k * slope) - values[i])
    if (err > maxAbsError) maxAbsError = err
  }
  return maxAbsError
}

/** Maps a chunk of values with `plan`; returns its 16-bit samples and the largest error in it (0 when the plan is exact). */
export function applyMapping (plan: MappingPlan, values: SourceArray): { data: Int16Array | Uint16Array, maxAbsError: number } {
  const { slope, intercept, signed } = plan
  const n = values.length
  const data = signed ? new Int16Array(n) : new Uint16Array(n)
  const cast = caster(plan.dtype)
  let maxAbsError = 0
  for (let i = 0; i < n; i++) {
    const k = Math.min(Math.max(Math.round((values[i] - intercept) / slope), signed ? -32768 : 0), signed ? 32767 : 65535)
    data[i] = k
    const err = Math.abs(cast(intercept + k * slope) - values[i])
    if (err > maxAbsError) maxAbsError = err
  }
  return { data, maxAbsError }
}

/** Maps the values onto 16-bit integers; see the module comment. `label` names the source in errors. */
export function mapTo16 (values: SourceArray, options?: { quantize?: boolean, label?: string }): Mapped16 {
  const stats = newValueStats(dtypeOf(values))
  scanValues(stats, values, options?.label)
  const plan = planMapping(stats, options)
  const { data, maxAbsError } = applyMapping(plan, values)
  return { data, bitsStored: plan.bitsStored, signed: plan.signed, mapping: { slope: plan.slope, intercept: plan.intercept, dtype: plan.dtype, maxAbsError }, maxAbsError }
}

/** An exact step s such that every value is min + k s (k integer <= 65535), or undefined. */
function regularGrid (distinct: Set<number>, min: number, max: number, dtype: string): number | undefined {
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

/** Restores source-dtype values from 16-bit samples: exactly when the mapping was lossless, within maxAbsError otherwise. */
export function unmap16 (data: Int16Array | Uint16Array, mapping: Pick<ValueMapping, 'slope' | 'intercept' | 'dtype'>): SourceArray {
  const Ctor = ({ int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array } as Record<string, new (n: number) => SourceArray>)[mapping.dtype]
  if (Ctor == null) throw new UnsupportedInputError(`unmap16: unknown dtype ${mapping.dtype}`)
  const out = new Ctor(data.length)
  const cast = caster(mapping.dtype)
  for (let i = 0; i < data.length; i++) out[i] = cast(mapping.intercept + data[i] * mapping.slope)
  return out
}
