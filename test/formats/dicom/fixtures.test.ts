import { describe, it, expect } from 'vitest'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readInput } from '../../../src/formats/index.js'
import type { InputItem, RasterImage } from '../../../src/types.js'
import { REAL_FIXTURES } from '../../helpers/env.js'

const NATIVE = ['1.2.840.10008.1.2 ', '1.2.840.10008.1.2.1 ', '1.2.840.10008.1.2.2 ', '1.2.840.10008.1.2.1.99']
async function pixelBytes (item: InputItem): Promise<Buffer> {
  if (item.kind === 'image') return Buffer.from(item.image.data.buffer, item.image.data.byteOffset, item.image.data.byteLength)
  const parts: Buffer[] = []
  for await (const s of item.slices()) parts.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
  return Buffer.concat(parts)
}

describe.skipIf(REAL_FIXTURES == null)('real DICOM fixtures', async () => {
  // a skipped describe's body still runs: without the fixtures it only registers the (skipped) tests
  const root = REAL_FIXTURES ?? ''
  const rows = (REAL_FIXTURES == null ? '' : await readFile(join(root, 'MANIFEST.tsv'), 'utf8')).split('\n').slice(1).map(l => l.split('\t')).filter(r => r[1] === 'DICOM')
  const native = rows.filter(r => NATIVE.some(ts => `${r[6]} `.includes(ts))).map(r => r[0])
  const compressed = rows.filter(r => !native.includes(r[0]))

  it('finds the fixtures', () => {
    expect(native.length).toBeGreaterThanOrEqual(30)
    expect(compressed.length).toBeGreaterThanOrEqual(40)
  })

  it('12-bit fixtures: bits above BitsStored are masked, signed data sign-extended', async () => {
    // both are Siemens mosaics (35 slices of 64x64 in 384x384): read as demosaicked volumes
    const slices = async (rel: string): Promise<RasterImage[]> => {
      const item = await readInput(join(root, rel))
      if (item.kind !== 'volume') throw new Error(`${rel}: expected a mosaic volume`)
      expect(item.meta.dims).toEqual([64, 64, 35])
      const out: RasterImage[] = []
      for await (const s of item.slices()) out.push(s)
      return out
    }
    const u = await slices('github-dcm_qa_12bit/12bitUnsigned.dcm')
    const s = await slices('github-dcm_qa_12bit/12bitSigned_0x0F0F.dcm')
    expect(u[0].bitsStored).toBe(12)
    expect(u[0].data).toBeInstanceOf(Uint16Array)
    expect(Math.max(...u.map(x => x.data.reduce((m, v) => Math.max(m, v), 0)))).toBeLessThanOrEqual(4095)
    expect(s[0].data).toBeInstanceOf(Int16Array)
    expect(s[0].signed).toBe(true)
    expect(Math.max(...s.map(x => x.data.reduce((m, v) => Math.max(m, v), 0)))).toBeLessThanOrEqual(2047)
    expect(Math.min(...s.map(x => x.data.reduce((m, v) => Math.min(m, v), 0)))).toBeGreaterThanOrEqual(-2048)
    expect(s.some(x => x.data.includes(-1))).toBe(true) // 0xFFFF stored -> -1
  })

  it('metadata: spacing in (column, row) order, rescale, orientation', async () => {
    const ct = await readInput(join(root, 'github-cornerstone3D/CTImage_ExplicitLE.dcm'))
    if (ct.kind !== 'image') throw new Error('expected image')
    expect(ct.meta).toMatchObject({ sourceFormat: 'dicom', modality: 'CT', transferSyntax: '1.2.840.10008.1.2.1', photometric: 'MONOCHROME2', bitsAllocated: 16, rescale: { slope: 1, intercept: -1024 } })
    expect(ct.meta.orientation).toHaveLength(6)
    expect(ct.meta.position).toHaveLength(3)
    const be = await readInput(join(root, 'github-cornerstone3D/CTImage_ExplicitBE.dcm'))
    const im = await readInput(join(root, 'github-cornerstone3D/CTImage_ImplicitLE.dcm'))
    if (be.kind !== 'image' || im.kind !== 'image') throw new Error('expected images')
    expect(be.meta.spacing).toEqual(ct.meta.spacing)
    expect(Buffer.compare(await pixelBytes(be), await pixelBytes(ct))).toBe(0)
  })
})
