/**
 * The NIfTI reader does not hold the file: slices are read from disk when iterated
 * (.nii by position, .nii.gz in one forward inflate shared by the volumes of a 4D file),
 * with the same samples as the in-memory reader and the same length checks up front.
 */
import { open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeNifti, readInputs } from '../../../src/formats/index.js'
import { NIFTI1 } from '../../../src/formats/nifti/layout.js'
import { sheppLoganVolume } from '../../../src/examples/index.js'
import type { InputItem, RasterImage } from '../../../src/types.js'
import { tempDir } from '../../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
const phantom = sheppLoganVolume({ size: 40, slices: 6 })
const sliceBytes = 40 * 40 * 2

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir())
})

afterAll(async () => {
  await cleanup?.()
})

async function all (item: InputItem): Promise<RasterImage[]> {
  if (item.kind !== 'volume') throw new Error('not a volume')
  const out: RasterImage[] = []
  for await (const s of item.slices()) out.push(s)
  return out
}

const bytesOf = (s: RasterImage): Buffer => Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength)

/** A 4D file: `volumes` copies of the phantom, each offset by its index. */
function fourD (volumes: number): Uint8Array {
  const nii = encodeNifti(phantom.meta, phantom.slices)
  const data = Buffer.alloc(sliceBytes * 6 * volumes)
  for (let t = 0; t < volumes; t++) {
    phantom.slices.forEach((s, z) => Buffer.from(Int16Array.from(s.data, v => v + t).buffer).copy(data, (t * 6 + z) * sliceBytes))
  }
  const header = Buffer.from(nii.subarray(0, NIFTI1.dataOffset))
  header.writeInt16LE(4, NIFTI1.dim)
  header.writeInt16LE(volumes, NIFTI1.dim + 8)
  return Buffer.concat([header, data])
}

describe('NIfTI read from disk', () => {
  it('reads each .nii slice from the file when it is iterated', async () => {
    const path = join(dir, 'lazy.nii')
    await writeFile(path, encodeNifti(phantom.meta, phantom.slices))
    const [item] = await readInputs(path)
    // the file changes after the read: the slices come from what is on disk when iterated
    const handle = await open(path, 'r+')
    await handle.write(Buffer.alloc(sliceBytes, 0x11), 0, sliceBytes, NIFTI1.dataOffset + 3 * sliceBytes)
    await handle.close()
    const slices = await all(item)
    expect(slices.map((s, z) => z === 3 ? bytesOf(s).every(b => b === 0x11) : Buffer.compare(bytesOf(s), bytesOf(phantom.slices[z])) === 0)).toEqual([true, true, true, true, true, true])
  })

  it('4D .nii and .nii.gz give each volume\'s slices, in order or not, and a file cut short still fails when read', async () => {
    const bytes = fourD(3)
    await writeFile(join(dir, 'f.nii'), bytes)
    await writeFile(join(dir, 'f.nii.gz'), gzipSync(bytes))
    for (const name of ['f.nii', 'f.nii.gz']) {
      const items = await readInputs(join(dir, name))
      expect(items.map(i => i.kind === 'volume' ? i.meta.frame : undefined)).toEqual([0, 1, 2].map(index => ({ index, count: 3 })))
      // volume 2 first, then 0 (the gzip pass starts over), then 1
      for (const t of [2, 0, 1]) {
        const slices = await all(items[t])
        expect(slices.map((s, z) => Buffer.compare(bytesOf(s), Buffer.from(Int16Array.from(phantom.slices[z].data, v => v + t).buffer)))).toEqual([0, 0, 0, 0, 0, 0])
      }
      await Promise.all(items.map(async i => i.kind === 'volume' ? await i.close?.() : undefined))
    }
    const gz = gzipSync(bytes)
    await writeFile(join(dir, 'cut.nii.gz'), gz.subarray(0, gz.length >> 1))
    await expect(readInputs(join(dir, 'cut.nii.gz'))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/cut\.nii\.gz: truncated: header says 40x40x6x3 int16/) })
  })

  it('a slice iteration stopped early releases the file, and a later one reads again', async () => {
    const path = join(dir, 'stop.nii.gz')
    await writeFile(path, gzipSync(encodeNifti(phantom.meta, phantom.slices)))
    const [item] = await readInputs(path)
    if (item.kind !== 'volume') throw new Error('not a volume')
    for await (const s of item.slices()) { expect(Buffer.compare(bytesOf(s), bytesOf(phantom.slices[0]))).toBe(0); break }
    expect((await all(item)).map((s, z) => Buffer.compare(bytesOf(s), bytesOf(phantom.slices[z])))).toEqual([0, 0, 0, 0, 0, 0])
  })
})
