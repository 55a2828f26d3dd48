/**
 * The parts of DICOM volume building that need no reference tool: the CSA
 * header parser on good and hostile bytes, the slice-grid rule (jitter
 * accepted, a missing slice reported, even at fine spacing), the .dcm.gz
 * decompression bound, and the synthetic mosaic / enhanced / series inputs read
 * into the volumes they hold (test/formats/dicom/dcm2niix.test.ts compares them with dcm2niix).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gunzipFileBounded } from '../../../src/formats/dicom/file.js'
import { csaNumber, csaNumbers, parseCsaHeader } from '../../../src/formats/dicom/csa.js'
import { sliceGrid } from '../../../src/formats/dicom/slices.js'
import { readInput, readInputs } from '../../../src/formats/index.js'
import type { RasterImage } from '../../../src/types.js'
import { cli } from '../../helpers/cli.js'
import { csaHeader, REALISTIC_JITTER, writeEnhancedTwoStacks, writeMosaic, writeSeries } from '../../helpers/dicom-synth.js'
import { tempDir } from '../../helpers/tmp.js'

const AXIAL = [1, 0, 0, 0, 1, 0]
const stack = (gaps: number[]): number[][] => {
  let z = 0
  return [[0, 0, 0], ...gaps.map(g => { z += g; return [0, 0, z] })]
}

describe('CSA header', () => {
  it('reads the CSA2 elements a mosaic needs', () => {
    const csa = parseCsaHeader(csaHeader([['NumberOfImagesInMosaic', ['36']], ['SliceNormalVector', ['0', '0.1236', '0.9923']], ['Empty', []]]))
    expect(csa).toBeDefined()
    expect(csaNumber(csa!, 'NumberOfImagesInMosaic')).toBe(36)
    expect(csaNumbers(csa!, 'SliceNormalVector', 3)).toEqual([0, 0.1236, 0.9923])
    expect(csa!.get('Empty')).toEqual([])
  })

  it('reads CSA1 (no SV10 signature)', () => {
    const csa2 = csaHeader([['NumberOfImagesInMosaic', ['12']]])
    expect(csaNumber(parseCsaHeader(csa2.subarray(8))!, 'NumberOfImagesInMosaic')).toBe(12)
  })

  it('gives undefined for truncated or hostile headers instead of reading past them', () => {
    const good = csaHeader([['NumberOfImagesInMosaic', ['36']], ['SliceNormalVector', ['0', '0', '1']]])
    for (let n = 0; n < good.length; n += 7) expect(parseCsaHeader(good.subarray(0, n)), `cut at ${n}`).toBeUndefined()
    const huge = Buffer.from(good)
    huge.writeUInt32LE(0xffffffff, 8) // element count
    expect(parseCsaHeader(huge)).toBeUndefined()
    const items = Buffer.from(good)
    items.writeInt32LE(1e9, 16 + 76) // items of the first element
    expect(parseCsaHeader(items)).toBeUndefined()
    const length = Buffer.from(good)
    length.writeInt32LE(0x7fffffff, 16 + 84 + 4) // length of the first item
    expect(parseCsaHeader(length)).toBeUndefined()
  })
})

describe('slice grid', () => {
  it('accepts the position jitter scanners write, with dcm2niix\'s step (normal x first gap)', () => {
    const positions = REALISTIC_JITTER.map((j, k) => [0, 0, 7 * k + j])
    const grid = sliceGrid('jitter', [...positions].reverse(), AXIAL)
    expect(grid.order).toEqual(positions.map((_, k) => positions.length - 1 - k))
    expect(grid.step[2]).toBeCloseTo(7 + 0.0704, 9)
  })

  it('reports a missing slice with the gap, also at fine spacing', () => {
    expect(() => sliceGrid('s', stack([7, 7, 14, 7]), AXIAL)).toThrow(/a gap of 14 mm where the slices are 7 mm apart \(about 1 missing slice\) between \(0, 0, 14\) and \(0, 0, 28\)/)
    expect(() => sliceGrid('s', stack([0.1, 0.1, 0.2, 0.1]), AXIAL)).toThrow(/about 1 missing slice/)
    expect(() => sliceGrid('s', stack([5, 5, 5.5, 5]), AXIAL)).toThrow(/irregular slice spacing/)
    expect(() => sliceGrid('s', stack([5, 0, 5]), AXIAL)).toThrow(/share the position/)
  })

  it('keeps the sheared step of a gantry-tilted stack', () => {
    const positions = [0, 1, 2, 3].map(k => [0, 0.5 * k, 2 * k])
    expect(sliceGrid('tilt', positions, AXIAL).step).toEqual([0, 0.5, 2])
  })
})

describe('DICOM volumes from synthetic files', () => {
  let dir: string
  let cleanup: () => Promise<void>
  beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-dcmvol-')) })
  afterAll(async () => { await cleanup?.() })

  it('a mosaic is a volume of its tiles, cut exactly', async () => {
    const path = join(dir, 'mosaic.dcm')
    await writeMosaic(path, { slices: 10 })
    const item = await readInput(path)
    if (item.kind !== 'volume') throw new Error('expected a volume')
    expect(item.meta.dims).toEqual([20, 16, 10])
    expect(item.meta.spacing).toEqual([3, 3, 3.5])
    const whole = await readInput(join(dir, 'mosaic.dcm'))
    const slices: RasterImage[] = []
    if (whole.kind === 'volume') for await (const s of whole.slices()) slices.push(s)
    // tile 5 of the 4x4 grid: row 1, column 1 of the 80x64 mosaic, checked against the raw pixel data
    const bytes = await readFile(path)
    const raw = new Int16Array(bytes.buffer.slice(bytes.byteOffset + bytes.length - 80 * 64 * 2, bytes.byteOffset + bytes.length))
    for (let y = 0; y < 16; y++) for (let x = 0; x < 20; x++) expect(slices[5].data[y * 20 + x]).toBe(raw[(16 + y) * 80 + 20 + x])
  })

  it('a mosaic whose CSA slice count does not fit its size is refused with the reason', async () => {
    const path = join(dir, 'bad-mosaic.dcm')
    await writeMosaic(path, { slices: 10 })
    const bytes = await readFile(path)
    // NumberOfImagesInMosaic "10" -> "99": a 10x10 grid of 8x6.4-pixel tiles
    const at = bytes.indexOf(Buffer.from('10\0', 'latin1'), bytes.indexOf(Buffer.from('NumberOfImagesInMosaic', 'latin1')) + 84)
    bytes.write('99', at, 'latin1')
    await writeFile(path, bytes)
    await expect(readInput(path)).rejects.toThrow(/80x64 mosaic cannot hold 99 slices on a 10x10 grid.*CSA NumberOfImagesInMosaic is wrong/)
  })

  it('an enhanced file with two stacks is two volumes with their own rescale, frames in position order', async () => {
    const path = join(dir, 'enhanced.dcm')
    await writeEnhancedTwoStacks(path)
    const items = await readInputs(path)
    expect(items.map(i => i.kind)).toEqual(['volume', 'volume'])
    const [a, b] = items
    if (a.kind !== 'volume' || b.kind !== 'volume') throw new Error('expected volumes')
    expect(a.meta.frame).toEqual({ index: 0, count: 2 })
    expect(a.meta.rescale).toBeUndefined()
    expect(b.meta.rescale).toEqual({ slope: 0.5, intercept: -100 })
    expect(a.meta.spacing[2]).toBeCloseTo(4, 5) // positions written with 6 decimals
    // origin of stack 2: its first frame along the normal, in RAS
    expect([b.meta.affine[3], b.meta.affine[7]]).toEqual([55, expect.closeTo(50 - 40 * Math.sin(0.17), 4)])
    await expect(readInput(path)).rejects.toThrow(/2 volumes: read it with readInputs/)
  })

  it('.dcm.gz is read as its DICOM, and inflating stops at the bound', async () => {
    const path = join(dir, 'mosaic.dcm')
    await writeFile(path + '.gz', gzipSync(await readFile(path)))
    const a = await readInput(path)
    const b = await readInput(path + '.gz')
    expect(b.kind).toBe('volume')
    if (a.kind === 'volume' && b.kind === 'volume') expect(b.meta).toEqual(a.meta)
    // a bomb: 64 MiB of zeros in ~64 KiB; refused after the first bytes past the limit
    const bomb = join(dir, 'bomb.dcm.gz')
    await mkdir(dir, { recursive: true })
    await writeFile(bomb, gzipSync(Buffer.alloc(64 * 1024 * 1024)))
    await expect(gunzipFileBounded(bomb, 1024 * 1024)).rejects.toThrow(/larger than the limit of 1048576 bytes once inflated/)
    await writeFile(join(dir, 'cut.dcm.gz'), gzipSync(await readFile(path)).subarray(0, 500))
    await expect(readInput(join(dir, 'cut.dcm.gz'))).rejects.toThrow()
  })

  it('the CLI names a series with a missing slice in a warning and still publishes its files', async () => {
    const series = join(dir, 'cli', 'mr')
    await writeSeries(series, { slices: 6, drop: 2 })
    const res = await cli(['publish', series, '--repo', join(dir, 'cli-repo')])
    expect(res.code).toBe(0)
    expect(res.stderr).toMatch(/^warning: .*mr\/slice-000\.dcm \(series of 5 files\): a gap of 14 mm where the slices are 7 mm apart \(about 1 missing slice\).*published one by one$/m)
    expect(res.stdout).toMatch(/published 5 file\(s\) \(5 images\), 0 failed/)
    const json = await cli(['publish', series, '--repo', join(dir, 'cli-repo'), '--json'])
    expect(JSON.parse(json.stdout).warnings).toEqual([{ path: series, message: expect.stringMatching(/missing slice/) }])
  }, 120_000)
})
