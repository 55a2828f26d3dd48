import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { radiographImage, sheppLoganVolume, writeExamples } from '../../src/examples/index.js'
import { readInput } from '../../src/formats/index.js'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('built-in examples', () => {
  it('Shepp-Logan phantom: int16 HU values, skull/brain/air present, centred affine, deterministic', () => {
    const a = sheppLoganVolume({ size: 64, slices: 8 })
    const b = sheppLoganVolume({ size: 64, slices: 8 })
    expect(a.meta.dims).toEqual([64, 64, 8])
    expect(a.meta.dtype).toBe('int16')
    expect(a.slices).toHaveLength(8)
    const mid = a.slices[4].data as Int16Array
    const values = new Set(mid)
    expect(values.has(-1000)).toBe(true) // air
    expect(values.has(1000)).toBe(true) // skull
    expect(values.has(40)).toBe(true) // brain
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1000)
    expect(Math.max(...values)).toBeLessThanOrEqual(1000)
    expect(a.meta.affine[3]).toBeCloseTo(-31.5)
    expect(sha(new Uint8Array(mid.buffer))).toBe(sha(new Uint8Array(b.slices[4].data.buffer)))
  })

  it('radiograph: 12 bits stored in 16, structured, deterministic', () => {
    const a = radiographImage({ width: 256, height: 256 })
    const b = radiographImage({ width: 256, height: 256 })
    expect(a.image.bitsStored).toBe(12)
    expect(a.image.data).toBeInstanceOf(Uint16Array)
    const d = a.image.data
    const max = d.reduce((m, v) => Math.max(m, v), 0)
    const min = d.reduce((m, v) => Math.min(m, v), 4096)
    expect(max).toBeLessThanOrEqual(4095)
    expect(max - min).toBeGreaterThan(1500)
    expect(sha(new Uint8Array(d.buffer))).toBe(sha(new Uint8Array(b.image.data.buffer)))
  })

  it('writeExamples writes readable, byte-stable files', async () => {
    const [p1, r1] = await writeExamples(await mkdtemp(join(tmpdir(), 'mist-ex-')))
    const [p2, r2] = await writeExamples(await mkdtemp(join(tmpdir(), 'mist-ex-')))
    expect(sha(await readFile(p1))).toBe(sha(await readFile(p2)))
    expect(sha(await readFile(r1))).toBe(sha(await readFile(r2)))
    const vol = await readInput(p1)
    expect(vol.kind === 'volume' && vol.meta.dims).toEqual([256, 256, 48])
    const img = await readInput(r1)
    if (img.kind !== 'image') throw new Error('expected image')
    expect([img.image.width, img.image.height, img.image.bitsStored]).toEqual([1024, 1024, 12])
    expect(Buffer.compare(Buffer.from(img.image.data.buffer), Buffer.from(radiographImage().image.data.buffer))).toBe(0)
  })
})
