/**
 * mapTo16 / unmap16: exact round trips where the values allow it, a refusal
 * that says why otherwise, and a measured error with quantize; and the NIfTI
 * reader using them for float32 / int32 volumes.
 */
import { describe, it, expect } from 'vitest'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mapTo16, readInput, unmap16, encodeNifti } from '../../src/formats/index.js'
import type { RasterImage, VolumeMeta } from '../../src/types.js'

function sameBytes (a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
}

/** A float32 NIfTI-1 written by hand (encodeNifti writes only 8/16-bit slices). */
function floatNifti (values: Float32Array, dims: [number, number, number]): Uint8Array {
  const meta: VolumeMeta = { sourceFormat: 'nifti', dims, spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype: 'uint8' }
  const slices: RasterImage[] = Array.from({ length: dims[2] }, () => ({ width: dims[0], height: dims[1], components: 1, bitsStored: 8, signed: false, data: new Uint8Array(dims[0] * dims[1]) }))
  const header = encodeNifti(meta, slices).subarray(0, 352)
  const out = new Uint8Array(352 + values.byteLength)
  out.set(header)
  const view = new DataView(out.buffer)
  view.setInt16(70, 16, true) // datatype float32
  view.setInt16(72, 32, true) // bitpix
  out.set(new Uint8Array(values.buffer), 352)
  return out
}

describe('mapTo16 / unmap16', () => {
  it('integer-valued float32 round-trips exactly (identity and offset)', () => {
    const a = Float32Array.from({ length: 5000 }, (_, i) => (i * 7919) % 4001 - 1024)
    const m = mapTo16(a)
    expect(m.maxAbsError).toBe(0)
    expect(m.signed).toBe(true)
    expect(sameBytes(unmap16(m.data, m.mapping), a)).toBe(true)
    const b = Float32Array.from({ length: 5000 }, (_, i) => 100000 + (i % 60000))
    const mb = mapTo16(b)
    expect(mb.mapping.intercept).toBe(100000)
    expect(sameBytes(unmap16(mb.data, mb.mapping), b)).toBe(true)
  })

  it('int32 within int16 and uint32 within uint16 map by identity', () => {
    const a = Int32Array.from([-32768, 0, 32767, 5])
    expect(mapTo16(a).data).toEqual(Int16Array.from([-32768, 0, 32767, 5]))
    const u = Uint32Array.from([0, 65535, 12])
    const m = mapTo16(u)
    expect(m.data).toEqual(Uint16Array.from([0, 65535, 12]))
    expect(sameBytes(unmap16(m.data, m.mapping), u)).toBe(true)
  })

  it('values on an exact grid (slope and offset) round-trip exactly', () => {
    const a = Float64Array.from({ length: 3000 }, (_, i) => -3.5 + 0.25 * ((i * 31) % 2000))
    const m = mapTo16(a)
    expect(m.mapping.slope).toBeCloseTo(0.25, 12)
    expect(m.maxAbsError).toBe(0)
    expect(sameBytes(unmap16(m.data, m.mapping), a)).toBe(true)
  })

  it('real fractions are refused without quantize, and quantized with a measured error', () => {
    const a = Float32Array.from({ length: 100000 }, (_, i) => Math.sin(i) * 1000.123)
    expect(() => mapTo16(a, { label: 'x.nii' })).toThrow(/x\.nii: float32 values .* cannot be mapped to 16 bits without loss; pass --quantize/)
    const m = mapTo16(a, { quantize: true })
    const back = unmap16(m.data, m.mapping)
    let max = 0
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(back[i] - a[i]))
    expect(m.maxAbsError).toBe(max)
    expect(max).toBeGreaterThan(0)
    expect(max).toBeLessThanOrEqual(m.mapping.slope / 2 + 1e-3)
    expect(back).toBeInstanceOf(Float32Array)
  })

  it('NaN is refused even with quantize', () => {
    expect(() => mapTo16(Float32Array.from([1, Number.NaN]), { quantize: true })).toThrow(/NaN/)
  })

  it('a float32 NIfTI with integer values gives 16-bit slices plus the mapping; fractions need quantize', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mist-vm-'))
    const dims: [number, number, number] = [7, 5, 3]
    const ints = Float32Array.from({ length: 105 }, (_, i) => i * 3 - 200)
    await writeFile(join(dir, 'i.nii'), floatNifti(ints, dims))
    const item = await readInput(join(dir, 'i.nii'))
    if (item.kind !== 'volume') throw new Error('expected volume')
    expect(item.meta.valueMapping).toMatchObject({ dtype: 'float32', maxAbsError: 0 })
    const slices: RasterImage[] = []
    for await (const s of item.slices()) slices.push(s)
    expect(slices[0].data).toBeInstanceOf(Int16Array)
    const restored = slices.flatMap(s => Array.from(unmap16(s.data as Int16Array, item.meta.valueMapping ?? { slope: 1, intercept: 0, dtype: 'float32' })))
    expect(sameBytes(Float32Array.from(restored), ints)).toBe(true)
    const fractions = Float32Array.from({ length: 105 }, (_, i) => Math.sqrt(i + 0.5))
    await writeFile(join(dir, 'f.nii'), floatNifti(fractions, dims))
    await expect(readInput(join(dir, 'f.nii'))).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringMatching(/--quantize/) })
    const q = await readInput(join(dir, 'f.nii'), { quantize: true })
    expect(q.meta.valueMapping?.maxAbsError).toBeGreaterThan(0)
    console.log(`quantized float32 NIfTI: max |error| ${q.meta.valueMapping?.maxAbsError ?? NaN} for values 0.7..10.2`)
  })
})
