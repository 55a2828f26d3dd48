import { describe, it, expect } from 'vitest'
import { mkdtemp, writeFile, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { encodePng, readInput, writePng, sniffFormat } from '../../../src/formats/index.js'
import type { RasterImage } from '../../../src/types.js'
import { REAL_FIXTURES } from '../../helpers/env.js'

/** Independent PNG decoder for non-interlaced 8/16-bit gray: inflate IDAT, undo the 5 row filters, read big-endian samples. */
function decodeGrayPng (png: Uint8Array): { width: number, height: number, depth: number, samples: number[], filters: number[] } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength)
  let pos = 8; let width = 0; let height = 0; let depth = 0; const idat: Uint8Array[] = []
  while (pos < png.length) {
    const len = view.getUint32(pos); const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8))
    if (type === 'IHDR') { width = view.getUint32(pos + 8); height = view.getUint32(pos + 12); depth = png[pos + 16]; expect(png[pos + 17]).toBe(0); expect(png[pos + 20]).toBe(0) }
    if (type === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len))
    pos += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat)); const bpp = depth / 8; const rowBytes = width * bpp
  const rows: Uint8Array[] = []
  const filters: number[] = []
  for (let y = 0; y < height; y++) {
    const f = raw[y * (rowBytes + 1)]; filters.push(f); const src = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1))
    const prev = y > 0 ? rows[y - 1] : new Uint8Array(rowBytes); const row = new Uint8Array(rowBytes)
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= bpp ? row[i - bpp] : 0; const b = prev[i]; const c = i >= bpp ? prev[i - bpp] : 0
      const p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c)
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]
      row[i] = (src[i] + pred) & 0xff
    }
    rows.push(row)
  }
  const samples: number[] = []
  for (const row of rows) for (let i = 0; i < width; i++) samples.push(depth === 16 ? (row[2 * i] << 8) | row[2 * i + 1] : row[i])
  return { width, height, depth, samples, filters }
}

function gradientImage (width: number, height: number, bits: number): RasterImage {
  const max = 2 ** bits - 1
  const data = bits <= 8 ? new Uint8Array(width * height) : new Uint16Array(width * height)
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 >>> 7) % (max + 1)
  data[0] = 0; data[1] = max
  return { width, height, components: 1, bitsStored: bits, signed: false, data }
}

function bytesOf (d: RasterImage['data']): Buffer { return Buffer.from(d.buffer, d.byteOffset, d.byteLength) }

describe('PNG round trip', () => {
  for (const bits of [8, 12, 16]) {
    it(`writes and reads back a ${bits}-bit gray image bit-exactly`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'mist-png-'))
      const image = gradientImage(37, 23, bits)
      const path = join(dir, 'x.png')
      await writePng(path, image)
      expect((await readdir(dir)).filter(f => f.includes('.tmp-'))).toEqual([])
      const item = await readInput(path)
      if (item.kind !== 'image') throw new Error('expected image')
      expect(item.image.width).toBe(37)
      expect(item.image.height).toBe(23)
      expect(item.image.bitsStored).toBe(bits)
      expect(item.image.data.constructor).toBe(image.data.constructor)
      expect(Buffer.compare(bytesOf(item.image.data), bytesOf(image.data))).toBe(0)
      const independent = decodeGrayPng(await readFile(path))
      expect(independent.depth).toBe(bits <= 8 ? 8 : 16)
      expect(independent.samples).toEqual(Array.from(image.data))
    })
  }

  it('chooses among all five row filters and every one decodes bit-exactly (8 and 16 bit, width 1)', () => {
    // rows built so that each filter wins somewhere: zeros under noise (None), a ramp along x (Sub), a copy of
    // the row above (Up), the mean of left and above (Average), a smooth 2D surface (Paeth)
    for (const bits of [8, 16]) {
      const width = 64; const height = 50; const max = 2 ** bits - 1
      const data = bits === 8 ? new Uint8Array(width * height) : new Uint16Array(width * height)
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const i = y * width + x
          const kind = Math.floor(y / 10)
          let v: number
          if (kind === 0) v = y % 2 === 0 ? (i * 2654435761 >>> 9) % (max + 1) : 0
          else if (kind === 1) v = (x * 37 + y * 1013) % (max + 1)
          else if (kind === 2) v = y % 10 === 0 ? (x * 7919 >>> 3) % (max + 1) : data[i - width]
          else if (kind === 3) v = x === 0 ? (y * 97) % (max + 1) : Math.floor((data[i - 1] + data[i - width]) / 2)
          else v = Math.round((Math.sin(x / 9) * Math.cos(y / 7) + 1) / 2 * max)
          data[i] = v
        }
      }
      const image: RasterImage = { width, height, components: 1, bitsStored: bits, signed: false, data }
      const decoded = decodeGrayPng(encodePng(image))
      expect(decoded.samples).toEqual(Array.from(data))
      expect(new Set(decoded.filters)).toEqual(new Set([0, 1, 2, 3, 4]))
      const column: RasterImage = { ...image, width: 1, height: 7, data: data.slice(0, 7) }
      expect(decodeGrayPng(encodePng(column)).samples).toEqual(Array.from(data.slice(0, 7)))
    }
  })

  it('writes 8-bit RGB and reads it back', async () => {
    const data = new Uint8Array(5 * 4 * 3).map((_, i) => (i * 37) & 0xff)
    const png = encodePng({ width: 5, height: 4, components: 3, bitsStored: 8, signed: false, data })
    const dir = await mkdtemp(join(tmpdir(), 'mist-png-'))
    await writeFile(join(dir, 'rgb.png'), png)
    const item = await readInput(join(dir, 'rgb.png'))
    if (item.kind !== 'image') throw new Error('expected image')
    expect(item.image.components).toBe(3)
    expect(Buffer.compare(bytesOf(item.image.data), Buffer.from(data))).toBe(0)
  })

  it('refuses signed data with a clear error', () => {
    expect(() => encodePng({ width: 2, height: 1, components: 1, bitsStored: 16, signed: true, data: new Int16Array([-1, 1]) }))
      .toThrow(/signed 16-bit samples cannot be stored in PNG/)
  })

  it('sniffs PNG from bytes', () => {
    expect(sniffFormat(encodePng(gradientImage(2, 2, 8)))).toBe('png')
  })
})

describe.skipIf(REAL_FIXTURES == null)('real PNG fixtures', () => {
  const root = REAL_FIXTURES as string
  const dirs = ['derived/cxr_png16', 'github-reproduce-chexnet', 'github-torchxrayvision']
  it('reads every PNG; 16-bit values equal an independent decode and the MANIFEST bit depth', async () => {
    const manifest = (await readFile(join(root, 'MANIFEST.tsv'), 'utf8')).split('\n').map(l => l.split('\t'))
    let count = 0
    for (const d of dirs) {
      for (const f of (await readdir(join(root, d))).filter(f => f.endsWith('.png'))) {
        const rel = `${d}/${f}`
        const row = manifest.find(r => r[0] === rel)
        const item = await readInput(join(root, rel))
        if (item.kind !== 'image') throw new Error('expected image')
        count++
        expect(item.image.components).toBe(1) // chest X-rays: RGB(A) with equal channels become gray
        if (row?.[7] === '16-bit') {
          expect(item.image.data).toBeInstanceOf(Uint16Array)
          const ref = decodeGrayPng(await readFile(join(root, rel)))
          expect(Buffer.compare(bytesOf(item.image.data), Buffer.from(new Uint16Array(ref.samples).buffer))).toBe(0)
          const max = item.image.data.reduce((m, v) => Math.max(m, v), 0)
          if (rel.includes('12bit')) expect(max).toBeLessThanOrEqual(4095)
          if (rel.includes('15bit')) { expect(max).toBe(31896); expect(Math.min(...item.image.data.subarray(0, 100000))).toBeGreaterThanOrEqual(6286) }
        } else {
          expect(item.image.data).toBeInstanceOf(Uint8Array)
        }
      }
    }
    expect(count).toBeGreaterThanOrEqual(17)
  })
})
