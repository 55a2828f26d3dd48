/**
 * The voxel values a NIfTI or .npy output holds: stored samples, unmapped to the
 * source datatype (float32 when the mapping was quantized), optionally with the
 * rescale applied. With the rescale applied the output keeps the source datatype
 * when every real-world value is exact in it, else float32 (float64 sources stay
 * float64): a property of the whole volume.
 *
 * outputValues works on slices in memory; streamOutputValues on a stream of slices,
 * holding none of them: when the datatype depends on values not seen yet, the
 * slices are spooled to a scratch file until it is known.
 */
import { open } from 'node:fs/promises'
import { MistError } from '../errors.js'
import type { VolumeMeta, AbortOptions } from '../types.js'
import { unmap16, type SourceArray } from './value-map.js'

type Meta = Pick<VolumeMeta, 'dtype' | 'valueMapping' | 'rescale'>
type Samples = ArrayLike<number> & { length: number }

const ARRAYS: Record<string, new (n: number) => SourceArray> = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array }
const RANGES: Record<string, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1] }

/** The values a NIfTI output holds for one slice of stored samples, and their datatype. */
export interface NiftiValues { dtype: string, slices: SourceArray[], rescale?: { slope: number, intercept: number } }

/** How stored samples become output values; see valuePlan. */
interface ValuePlan {
  /** Datatype of the unmapped values. */
  dtype: string
  /** Stored samples of one slice -> values in `dtype` (the samples themselves when there is no mapping). */
  unmap: (data: Samples) => SourceArray
  /** The rescale the header carries (none when it is applied). */
  rescale?: { slope: number, intercept: number }
  /** The rescale to apply; `range`: the values must all fall in it for the output to keep `dtype` (absent: it cannot). */
  apply?: { slope: number, intercept: number, range?: [number, number] }
}

function valuePlan (meta: Meta, applyRescale: boolean): ValuePlan {
  let dtype = meta.dtype
  let unmap = (data: Samples): SourceArray => data as SourceArray
  const m = meta.valueMapping
  if (m != null) {
    dtype = m.maxAbsError === 0 ? m.dtype : 'float32'
    const mapping = { slope: m.slope, intercept: m.intercept, dtype }
    unmap = data => unmap16(data instanceof Int16Array || data instanceof Uint16Array ? data : Uint16Array.from(data), mapping)
  }
  const r = meta.rescale
  if (!applyRescale || r == null || (r.slope === 1 && r.intercept === 0) || r.slope === 0 || dtype === 'rgb24') {
    return { dtype, unmap, ...(r != null && r.slope !== 0 ? { rescale: r } : {}) }
  }
  const range = Number.isInteger(r.slope) && Number.isInteger(r.intercept) ? RANGES[dtype] : undefined
  return { dtype, unmap, apply: { slope: r.slope, intercept: r.intercept, ...(range != null ? { range } : {}) } }
}

/** Whether every rescaled value of `values` lies in the range that keeps the source datatype. */
function fits (apply: NonNullable<ValuePlan['apply']>, values: SourceArray): boolean {
  const range = apply.range
  if (range == null) return false
  for (let i = 0; i < values.length; i++) {
    const x = apply.slope * values[i] + apply.intercept
    if (x < range[0] || x > range[1]) return false
  }
  return true
}

/** The output datatype once it is known whether every value fits, and the per-slice conversion. */
function rescaledOutput (plan: ValuePlan, exactInSource: boolean): { dtype: string, convert: (v: SourceArray) => SourceArray } {
  const { slope, intercept } = plan.apply!
  const dtype = exactInSource ? plan.dtype : plan.dtype === 'float64' ? 'float64' : 'float32'
  const Ctor = ARRAYS[dtype]
  return {
    dtype,
    convert: v => {
      const o = new Ctor(v.length)
      for (let i = 0; i < v.length; i++) o[i] = slope * v[i] + intercept
      return o
    }
  }
}

/**
 * The voxel values of the output for slices in memory. Shared with the .npy writer so both give the same numbers.
 */
export function outputValues (meta: Meta, slices: Array<{ data: Samples }>, applyRescale = false): NiftiValues {
  const plan = valuePlan(meta, applyRescale)
  const values = slices.map(s => plan.unmap(s.data))
  if (plan.apply == null) return { dtype: plan.dtype, slices: values, ...(plan.rescale != null ? { rescale: plan.rescale } : {}) }
  const out = rescaledOutput(plan, plan.apply.range != null && values.every(v => fits(plan.apply!, v)))
  return { dtype: out.dtype, slices: values.map(out.convert) }
}

/** The output values of a stream of slices: the datatype and header rescale first, then the values of each slice in order. */
export interface ValueStream {
  dtype: string
  rescale?: { slope: number, intercept: number }
  slices: AsyncIterable<SourceArray>
}

export interface StreamValuesOptions extends AbortOptions {
  applyRescale?: boolean
  /** Scratch file for the values read before the datatype is known; the caller removes it. */
  spool: string
}

/**
 * outputValues over a stream: the same datatype and values, one slice at a time. Only when the
 * rescale is applied and its result may or may not fit the source datatype are slices read
 * ahead, into `options.spool` (not memory), until a value that does not fit is seen or the
 * stream ends; they are read back from it in order.
 */
export async function streamOutputValues (meta: Meta, slices: AsyncIterable<{ data: Samples }>, options: StreamValuesOptions): Promise<ValueStream> {
  const plan = valuePlan(meta, options.applyRescale === true)
  const source = slices[Symbol.asyncIterator]()
  const rest = async function * (convert: (v: SourceArray) => SourceArray): AsyncGenerator<SourceArray> {
    for (let r = await source.next(); r.done !== true; r = await source.next()) yield convert(plan.unmap(r.value.data))
  }
  const apply = plan.apply
  if (apply == null) return { dtype: plan.dtype, ...(plan.rescale != null ? { rescale: plan.rescale } : {}), slices: rest(v => v) }
  if (apply.range == null) { const out = rescaledOutput(plan, false); return { dtype: out.dtype, slices: rest(out.convert) } }

  const Ctor = ARRAYS[plan.dtype] as unknown as new (buffer: ArrayBuffer) => SourceArray
  const sizes: number[] = []
  let exact = true
  const spool = await open(options.spool, 'w')
  try {
    for (let r = await source.next(); r.done !== true; r = await source.next()) {
      options.signal?.throwIfAborted()
      const v = plan.unmap(r.value.data)
      await spool.write(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
      sizes.push(v.byteLength)
      if (!fits(apply, v)) { exact = false; break }
    }
  } finally {
    await spool.close()
  }
  const out = rescaledOutput(plan, exact)
  const spooled = async function * (): AsyncGenerator<SourceArray> {
    const file = await open(options.spool, 'r')
    try {
      let at = 0
      for (const size of sizes) {
        const bytes = new Uint8Array(size)
        const { bytesRead } = await file.read(bytes, 0, size, at)
        if (bytesRead !== size) throw new MistError(`${options.spool}: the scratch file lost bytes (read ${bytesRead} of ${size} at ${at})`)
        at += size
        yield out.convert(new Ctor(bytes.buffer))
      }
    } finally {
      await file.close()
    }
    yield * rest(out.convert)
  }
  return { dtype: out.dtype, slices: spooled() }
}
