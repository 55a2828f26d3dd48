/**
 * Independent decoder: OpenJPEG's opj_decompress must decode our codestreams
 * (COM removed) to exactly what decodeHTJ2K returns, at every reduce level.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import dicomParser from 'dicom-parser'
import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import type { RasterImage } from '../../src/types.js'
import { parseCodestream } from '../../src/chunker/index.js'
import { decodeHTJ2K, encodeHTJ2K, synthesizeImage, toSampleType } from '../../src/codec/index.js'
import { bytesOf, opjDecode } from '../helpers/opj.js'
import { OPJ_DECOMPRESS, REAL_FIXTURES } from '../helpers/env.js'


async function expectOpjAgrees (image: RasterImage, name: string): Promise<void> {
  const codestream = await encodeHTJ2K(image)
  const D = parseCodestream(codestream).decompositions
  for (let k = 0; k <= D; k++) {
    const ours = await decodeHTJ2K(codestream, { reduce: k })
    expect([ours.width, ours.height]).toEqual([Math.ceil(image.width / 2 ** k), Math.ceil(image.height / 2 ** k)])
    const theirs = await opjDecode(codestream, k, ours)
    expect(theirs.length).toBe(ours.data.length)
    expect(Buffer.compare(bytesOf(theirs), bytesOf(ours.data)), `${name} at reduce ${k}`).toBe(0)
    if (k === 0) {
      const back = toSampleType(ours, image)
      expect(Buffer.compare(bytesOf(back.data), bytesOf(image.data)), `${name} lossless`).toBe(0)
    }
  }
}

describe.skipIf(OPJ_DECOMPRESS == null)('opj_decompress decodes our codestreams identically', () => {
  it.each<[string, RasterImage]>([
    ['int16 CT-like 512x512', synthesizeImage(512, 512, 16, true)],
    ['uint16 12-bit 513x257', synthesizeImage(513, 257, 12, false)],
    ['signed 8-bit (9-bit container) 130x70', synthesizeImage(130, 70, 8, true)],
    ['8-bit RGB 160x120', synthesizeImage(160, 120, 8, false, 3)],
    ['1-bit 100x90', synthesizeImage(100, 90, 1, false)],
    ['uint8 1000x3', synthesizeImage(1000, 3, 8, false)],
    ['1x1 uint16', synthesizeImage(1, 1, 16, false)]
  ])('%s', async (name, image) => {
    await expectOpjAgrees(image, name.replace(/\W+/g, '_'))
  })
})

describe.skipIf(OPJ_DECOMPRESS == null || REAL_FIXTURES == null)('opj_decompress on real images', () => {
  it('chest X-ray PNG, 16-bit container, 12 bits stored (2000x2128)', async () => {
    const file = path.join(REAL_FIXTURES as string, 'derived/cxr_png16/DX_chest_966_2128x2000_u16_12bit.png')
    const png = PNG.sync.read(readFileSync(file), { skipRescale: true } as Parameters<typeof PNG.sync.read>[1])
    const rgba = png.data as unknown as Uint16Array // pngjs gives RGBA; with skipRescale 16-bit samples stay 16-bit
    const data = new Uint16Array(png.width * png.height)
    for (let i = 0; i < data.length; i++) data[i] = rgba[4 * i]
    let max = 0
    for (const v of data) max = Math.max(max, v)
    expect(max).toBeLessThan(4096)
    await expectOpjAgrees({ width: png.width, height: png.height, components: 1, bitsStored: 12, signed: false, data }, 'cxr')
  })

  it('NEMA CT1 uncompressed DICOM, signed 16-bit (512x512)', async () => {
    const file = path.join(REAL_FIXTURES as string, 'github-DICOMHTJ2K/uncompressed/CT1_UNC.dcm')
    const bytes = new Uint8Array(readFileSync(file))
    const ds = dicomParser.parseDicom(bytes)
    const width = ds.uint16('x00280011') as number
    const height = ds.uint16('x00280010') as number
    expect(ds.uint16('x00280103')).toBe(1)
    const pixels = ds.elements.x7fe00010
    const copy = bytes.slice(pixels.dataOffset, pixels.dataOffset + width * height * 2)
    const data = new Int16Array(copy.buffer, 0, width * height)
    await expectOpjAgrees({ width, height, components: 1, bitsStored: ds.uint16('x00280101') as number, signed: true, data }, 'ct1')
  })
})
