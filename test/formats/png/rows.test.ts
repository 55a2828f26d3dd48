/**
 * The direct PNG row decoder (src/formats/png/rows.ts: non-interlaced 8/16-bit gray, gray+alpha,
 * RGB, RGBA without tRNS), against the pixels written: every filter type (pngjs's writer with
 * each fixed filter and its adaptive choice) and colour type decodes to exactly what was encoded;
 * transparency, a wrong CRC and an unknown filter type are refused as before.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib'
import pngjs from 'pngjs'
import { describe, expect, it } from 'vitest'
import { readPngBytes } from '../../../src/formats/png/read.js'

const W = 37
const H = 23

function makePng (colorType: number, bitDepth: number, filterType: number, seed: number, opaque = true): { file: Buffer, src: Uint8Array | Uint16Array } {
  let s = seed
  const rnd = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
  const max = bitDepth === 16 ? 65535 : 255
  const src = bitDepth === 16 ? new Uint16Array(W * H * 4) : new Uint8Array(W * H * 4)
  const colour = colorType === 2 || colorType === 6
  for (let p = 0; p < W * H; p++) {
    const g = Math.floor(rnd() * (max + 1))
    src[4 * p] = g
    src[4 * p + 1] = colour ? Math.floor(rnd() * 256) : g
    src[4 * p + 2] = colour ? Math.floor(rnd() * 256) : g
    src[4 * p + 3] = opaque || p !== 100 ? max : 0
  }
  const png = new pngjs.PNG({ width: W, height: H })
  png.data = src as any
  const file = pngjs.PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true, filterType } as any)
  return { file, src }
}

describe('PNG rows decoded directly', () => {
  for (const [colorType, bitDepth] of [[0, 8], [0, 16], [2, 8], [4, 8], [4, 16], [6, 8]]) {
    it(`colour type ${colorType}, ${bitDepth}-bit: every filter type decodes to the pixels written`, () => {
      for (const filterType of [0, 1, 2, 3, 4, -1]) {
        const { file, src } = makePng(colorType, bitDepth, filterType, 7 + filterType)
        const item = readPngBytes('t.png', file)
        if (item.kind !== 'image') throw new Error('expected an image')
        const img = item.image
        const comps = colorType === 2 || colorType === 6 ? 3 : 1
        expect([img.width, img.height, img.components, img.bitsStored]).toEqual([W, H, comps, bitDepth])
        const expected = Array.from({ length: W * H * comps }, (_, i) => src[4 * Math.floor(i / comps) + (i % comps)])
        expect(Array.from(img.data), `filter ${filterType}`).toEqual(expected)
      }
    })
  }

  it('refuses transparency, a wrong CRC and an unknown filter type', () => {
    expect(() => readPngBytes('a.png', makePng(6, 8, 0, 3, false).file)).toThrow(/with transparency is not supported/)
    const { file } = makePng(0, 8, 0, 5)
    const bad = Buffer.from(file)
    bad[bad.length - 20] ^= 0xff // inside IDAT's CRC... or data: either way a CRC mismatch or corrupt data
    expect(() => readPngBytes('b.png', bad)).toThrow(/corrupt PNG/)
    // filter type 7 in the first row, with the IDAT re-deflated and CRCs made right
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
    let pos = 8
    while (file.toString('latin1', pos + 4, pos + 8) !== 'IDAT') pos += 12 + view.getUint32(pos)
    const rows = inflateSync(file.subarray(pos + 8, pos + 8 + view.getUint32(pos)))
    rows[0] = 7
    const data = deflateSync(rows)
    const chunk = Buffer.alloc(12 + data.length)
    chunk.writeUInt32BE(data.length, 0); chunk.write('IDAT', 4, 'latin1'); data.copy(chunk, 8)
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)) >>> 0, 8 + data.length)
    const forged = Buffer.concat([file.subarray(0, pos), chunk, file.subarray(pos + 12 + view.getUint32(pos))])
    expect(() => readPngBytes('c.png', forged)).toThrow(/row 0 has filter type 7/)
  })
})
