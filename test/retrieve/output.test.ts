/**
 * Output writers without external tools: the DICOM HTJ2K writer read back with
 * dicom-parser (tags, encapsulation, fresh UIDs), NIfTI values for mapped and
 * rescaled data, and the row flip of DICOM sources.
 */
import dicomParser from 'dicom-parser'
import { describe, expect, it } from 'vitest'
import { encodeHTJ2K } from '../../src/codec/index.js'
import { decimalString, encodeDicomHTJ2K, encodeNifti, encodeNpy, flipAffineRows, freshUid, mapTo16, outputValues } from '../../src/formats/index.js'
import { NIFTI1 } from '../../src/formats/nifti/layout.js'
import type { RasterImage, VolumeMeta } from '../../src/types.js'

const image: RasterImage = { width: 37, height: 23, components: 1, bitsStored: 12, signed: true, data: Int16Array.from({ length: 37 * 23 }, (_, i) => ((i * 97) % 4096) - 2048) }

describe('DICOM HTJ2K writer', () => {
  it('writes a Part 10 file with the technical tags, one even-length fragment and fresh 2.25 UIDs', async () => {
    const codestream = await encodeHTJ2K(image, { decompositions: 2 })
    const bytes = encodeDicomHTJ2K({ codestream, modality: 'CT', spacing: [0.5, 0.75], orientation: [1, 0, 0, 0, 1, 0], position: [-10.25, 3, 7.5], rescale: { slope: 1, intercept: -1024 } })
    const ds = dicomParser.parseDicom(bytes)
    expect(ds.string('x00020010')).toBe('1.2.840.10008.1.2.4.202')
    expect(ds.string('x00080016')).toBe('1.2.840.10008.5.1.4.1.1.7')
    expect(ds.string('x00080018')).toMatch(/^2\.25\.\d{1,39}$/)
    expect(ds.string('x00020003')).toBe(ds.string('x00080018'))
    expect([ds.uint16('x00280010'), ds.uint16('x00280011'), ds.uint16('x00280100'), ds.uint16('x00280101'), ds.uint16('x00280102'), ds.uint16('x00280103')]).toEqual([23, 37, 16, 12, 11, 1])
    expect(ds.string('x00280030')).toBe('0.75\\0.5') // row spacing first
    expect(ds.string('x00200032')).toBe('-10.25\\3\\7.5')
    expect([ds.string('x00281053'), ds.string('x00281052')]).toEqual(['1', '-1024'])
    expect(ds.string('x00100010')).toBeUndefined() // present, empty
    expect(ds.elements.x00100010.length).toBe(0)
    const pixel = ds.elements.x7fe00010
    expect(pixel.encapsulatedPixelData).toBe(true)
    expect(pixel.basicOffsetTable).toEqual([])
    expect(pixel.fragments).toHaveLength(1)
    expect(pixel.fragments![0].length % 2).toBe(0)
    const fragment = bytes.subarray(pixel.fragments![0].position, pixel.fragments![0].position + codestream.length)
    expect(Buffer.compare(fragment, codestream)).toBe(0)
    const again = dicomParser.parseDicom(encodeDicomHTJ2K({ codestream }))
    expect(again.string('x00080018')).not.toBe(ds.string('x00080018'))
    expect(again.string('x00080060')).toBe('OT')
  })

  it('decimal strings fit 16 characters; UIDs fit 64', () => {
    for (const x of [0.1, -0.0001234567890123, 123456789.123456789, 1e-12, -1024, 0.9765625, 1 / 3]) {
      const s = decimalString(x)
      expect(s.length, s).toBeLessThanOrEqual(16)
      expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-9 + 1e-20)
    }
    expect(decimalString(-0)).toBe('0')
    for (let i = 0; i < 20; i++) expect(freshUid().length).toBeLessThanOrEqual(64)
  })
})

describe('NIfTI and npy values', () => {
  const meta = (over: Partial<VolumeMeta>): VolumeMeta => ({ sourceFormat: 'nifti', dims: [3, 2, 1], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype: 'uint16', ...over })

  it('an exact mapping restores the source dtype; a quantized one gives float32', () => {
    const source = Float64Array.from([0.5, 1, 1.5, 2, 2.5, 3])
    const m = mapTo16(source)
    const slice: RasterImage = { width: 3, height: 2, components: 1, bitsStored: m.bitsStored, signed: m.signed, data: m.data }
    const exact = outputValues(meta({ valueMapping: m.mapping }), [slice])
    expect(exact.dtype).toBe('float64')
    expect([...exact.slices[0]]).toEqual([...source])
    const q = outputValues(meta({ valueMapping: { ...m.mapping, maxAbsError: 1e-3 } }), [slice])
    expect(q.dtype).toBe('float32')
    const nii = encodeNifti(meta({ valueMapping: m.mapping, dtype: m.signed ? 'int16' : m.bitsStored <= 8 ? 'uint8' : 'uint16' }), [m.bitsStored <= 8 ? { ...slice, data: Uint8Array.from(m.data) } : slice])
    const view = new DataView(nii.buffer)
    expect(view.getInt16(NIFTI1.datatype, true)).toBe(64)
    expect(Array.from({ length: 6 }, (_, i) => view.getFloat64(NIFTI1.dataOffset + 8 * i, true))).toEqual([...source])
  })

  it('applyRescale keeps the integer type when every value fits, float32 otherwise, and resets scl', () => {
    const slice: RasterImage = { width: 3, height: 2, components: 1, bitsStored: 16, signed: true, data: Int16Array.from([0, 1, 2, 3, 1000, -5]) }
    const fits = outputValues(meta({ dtype: 'int16', rescale: { slope: 1, intercept: -1024 } }), [slice], true)
    expect(fits.dtype).toBe('int16')
    expect([...fits.slices[0]]).toEqual([-1024, -1023, -1022, -1021, -24, -1029])
    expect(fits.rescale).toBeUndefined()
    const frac = outputValues(meta({ dtype: 'int16', rescale: { slope: 0.5, intercept: 0 } }), [slice], true)
    expect(frac.dtype).toBe('float32')
    expect([...frac.slices[0]]).toEqual([0, 0.5, 1, 1.5, 500, -2.5])
    const overflow = outputValues(meta({ dtype: 'int16', rescale: { slope: 1, intercept: 32000 } }), [slice], true)
    expect(overflow.dtype).toBe('float32')
    const kept = outputValues(meta({ dtype: 'int16', rescale: { slope: 2, intercept: 1 } }), [slice])
    expect(kept.rescale).toEqual({ slope: 2, intercept: 1 })
  })

  it('flipRows stores rows bottom-up with the affine moved to the last row', () => {
    const slice: RasterImage = { width: 3, height: 2, components: 1, bitsStored: 8, signed: false, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) }
    const m = meta({ dtype: 'uint8', sourceFormat: 'dicom', affine: [-0.5, 0, 0, 10, 0, -0.7, 0, 20, 0, 0, 2, -5, 0, 0, 0, 1] })
    const nii = encodeNifti(m, [slice], { flipRows: true })
    expect([...nii.subarray(NIFTI1.dataOffset)]).toEqual([4, 5, 6, 1, 2, 3])
    const view = new DataView(nii.buffer)
    const srow = Array.from({ length: 12 }, (_, i) => view.getFloat32(NIFTI1.srow + 4 * i, true))
    expect(srow).toEqual(flipAffineRows(m.affine, 2).slice(0, 12).map(Math.fround))
    expect(srow[5]).toBeCloseTo(0.7, 6)
    expect(srow[7]).toBeCloseTo(19.3, 5)
  })

  it('npy holds wider dtypes for restored values', () => {
    const npy = encodeNpy({ width: 2, height: 1, components: 1, data: Float32Array.from([1.5, -2]) })
    const header = Buffer.from(npy.subarray(10, 10 + (npy[8] | (npy[9] << 8)))).toString('latin1')
    expect(header).toContain("'descr': '<f4'")
    expect(header).toContain("'shape': (1, 2)")
    expect((10 + header.length) % 64).toBe(0)
    expect([...new Float32Array(npy.slice(npy.length - 8).buffer)]).toEqual([1.5, -2])
  })
})
