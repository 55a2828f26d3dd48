/**
 * The metadata added for "every image a consortium holds" (lossySource,
 * valueMapping, frame, text) survives buildImageDag/decodeImageRoot and
 * buildVolumeDag/decodeVolumeRoot; invalid values and unknown keys are dropped.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { buildImageDag, buildVolumeDag, decodeImageRoot, decodeVolumeRoot, normaliseImageMeta, normaliseVolumeMeta } from '../../src/chunker/index.js'
import { encodeHTJ2K } from '../../src/codec/index.js'
import type { ImageMeta, RasterImage, VolumeMeta } from '../../src/types.js'

const image: RasterImage = { width: 40, height: 30, components: 1, bitsStored: 12, signed: false, data: Uint16Array.from({ length: 1200 }, (_, i) => (i * 37) % 4096) }

const volume: VolumeMeta = {
  sourceFormat: 'nifti', dims: [40, 30, 2], spacing: [1, 1, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], dtype: 'uint16',
  lossySource: true,
  valueMapping: { slope: 0.25, intercept: -12.5, dtype: 'float32', maxAbsError: 0.001 },
  frame: { index: 2, count: 5 },
  text: { descrip: 'FSL5.0 brain template', auxFile: 'none', intentName: 'T1', extensions: [{ code: 6, data: new Uint8Array([1, 2, 3]) }] }
}

function sliceCid (z: number): CID {
  return CID.createV1(dagCbor.code, sha256.digest(dagCbor.encode({ z })) as any)
}

describe('published metadata', () => {
  it('image roots keep lossySource and valueMapping, drop unknown keys', async () => {
    const cs = await encodeHTJ2K(image, { decompositions: 2 })
    const meta = { sourceFormat: 'dicom', modality: 'CT', lossySource: true, valueMapping: { slope: 2, intercept: 7, dtype: 'int32', maxAbsError: 0 }, patientName: 'DOE^JOHN', institution: 'General Hospital' } as ImageMeta
    const dag = await buildImageDag(cs, image, meta, { name: 'x.dcm' })
    const root = decodeImageRoot(dag.blocks.find(b => b.cid.equals(dag.root))!.bytes, dag.root)
    expect(root.meta).toEqual({ sourceFormat: 'dicom', modality: 'CT', lossySource: true, valueMapping: { slope: 2, intercept: 7, dtype: 'int32', maxAbsError: 0 } })
    const text = new TextDecoder().decode(dag.blocks.find(b => b.cid.equals(dag.root))!.bytes)
    expect(text).not.toContain('DOE^JOHN')
    expect(text).not.toContain('General Hospital')
  })

  it('absent fields do not change an image root', async () => {
    const cs = await encodeHTJ2K(image, { decompositions: 2 })
    const a = await buildImageDag(cs, image, { sourceFormat: 'png' }, { name: 'a.png' })
    const b = await buildImageDag(cs, image, { sourceFormat: 'png', lossySource: false, valueMapping: undefined } as ImageMeta, { name: 'a.png' })
    expect(a.root.equals(b.root)).toBe(true)
  })

  it('volume roots keep lossySource, valueMapping, frame and the short text fields', async () => {
    const levels = [{ level: 0, width: 10, height: 8, bytes: 100 }, { level: 1, width: 20, height: 15, bytes: 300 }, { level: 2, width: 40, height: 30, bytes: 900 }]
    const dag = await buildVolumeDag({ ...volume, ssn: '123-45-6789' } as VolumeMeta, [0, 1].map(z => ({ root: sliceCid(z), levels })))
    const root = decodeVolumeRoot(dag.blocks[0].bytes, dag.root)
    expect(root.meta.lossySource).toBe(true)
    expect(root.meta.valueMapping).toEqual(volume.valueMapping)
    expect(root.meta.frame).toEqual({ index: 2, count: 5 })
    // binary extensions never leave the machine; the printable fields do (only when the reader kept them)
    expect(root.meta.text).toEqual({ descrip: 'FSL5.0 brain template', auxFile: 'none', intentName: 'T1' })
    expect(Object.keys(root.meta)).not.toContain('ssn')
    const without = await buildVolumeDag({ ...volume, lossySource: undefined, valueMapping: undefined, frame: undefined, text: undefined }, [0, 1].map(z => ({ root: sliceCid(z), levels })))
    const plain = decodeVolumeRoot(without.blocks[0].bytes, without.root)
    expect(Object.keys(plain.meta).sort()).toEqual(['affine', 'dims', 'dtype', 'sourceFormat', 'spacing'])
  })

  it('drops invalid values of the new fields', () => {
    const base = { sourceFormat: 'nifti', dims: [2, 2, 2], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype: 'uint8' }
    const bad = [
      { lossySource: 'yes' },
      { valueMapping: { slope: NaN, intercept: 0, dtype: 'float32', maxAbsError: 0 } },
      { valueMapping: { slope: 1, intercept: 0, dtype: 'complex64', maxAbsError: 0 } },
      { valueMapping: { slope: 1, intercept: 0, dtype: 'float32', maxAbsError: -1 } },
      { valueMapping: { slope: 1, intercept: 0, dtype: 'float32' } },
      { frame: { index: 3, count: 3 } },
      { frame: { index: 0.5, count: 3 } },
      { text: { descrip: 'x'.repeat(81) } },
      { text: { descrip: 'tab\there' } },
      { text: { intentName: 'é' } }
    ]
    for (const extra of bad) {
      const m = normaliseVolumeMeta({ ...base, ...extra })!
      expect(Object.keys(m).sort(), JSON.stringify(extra)).toEqual(['affine', 'dims', 'dtype', 'sourceFormat', 'spacing'])
    }
    expect(normaliseImageMeta({ sourceFormat: 'png', lossySource: 1, valueMapping: { slope: Infinity, intercept: 0, dtype: 'int32', maxAbsError: 0 } })).toEqual({ sourceFormat: 'png' })
  })
})
