import { describe, it, expect } from 'vitest'
import { mkdtemp, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encodeNifti, encodePng, readInput } from '../../src/formats/index.js'
import { REAL_FIXTURES } from '../helpers/env.js'

const dir = await mkdtemp(join(tmpdir(), 'mist-bad-'))
async function file (name: string, bytes: Uint8Array | string): Promise<string> {
  const p = join(dir, name); await writeFile(p, bytes); return p
}
function niftiHeader (nx: number, ny: number, nz: number): Uint8Array {
  const nii = encodeNifti({ sourceFormat: 'x', dims: [1, 1, 1], spacing: [1, 1, 1], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], dtype: 'int16' },
    [{ width: 1, height: 1, components: 1, bitsStored: 16, signed: true, data: new Int16Array(1) }])
  const v = new DataView(nii.buffer)
  v.setInt16(42, nx, true); v.setInt16(44, ny, true); v.setInt16(46, nz, true)
  return nii
}

describe('bad inputs give clear errors naming the file', () => {
  it('empty file, text file, directory, missing file', async () => {
    await expect(readInput(await file('empty.nii', ''))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/empty\.nii: empty file/) })
    await expect(readInput(await file('notes.png', 'hello, this is text\n'))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/notes\.png: not a recognised image/) })
    await expect(readInput(dir)).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/is a directory/) })
    await expect(readInput(join(dir, 'nope.dcm'))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/nope\.dcm: cannot open \(ENOENT\)/) })
  })

  it('truncated PNG', async () => {
    const png = encodePng({ width: 64, height: 64, components: 1, bitsStored: 16, signed: false, data: new Uint16Array(4096).map((_, i) => i * 13) })
    await expect(readInput(await file('cut.png', png.subarray(0, png.length - 40)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/cut\.png: truncated PNG/) })
  })

  it('truncated NIfTI (.nii and .nii.gz) states declared and actual sizes', async () => {
    const nii = niftiHeader(512, 512, 300)
    await expect(readInput(await file('scan.nii', nii))).rejects.toMatchObject({
      name: 'InvalidInputError', message: expect.stringMatching(/scan\.nii: truncated: header says 512x512x300 int16 \(157286400 bytes at offset 352\) but the file holds 354/)
    })
    await expect(readInput(await file('scan.nii.gz', gzipSync(nii)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/scan\.nii\.gz: truncated: header says 512x512x300 int16/) })
    const gz = gzipSync(Buffer.concat([nii, Buffer.alloc(100000)]))
    await expect(readInput(await file('cutgz.nii.gz', gz.subarray(0, gz.length - 20)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/cutgz\.nii\.gz: truncated/) })
  })

  it('absurd NIfTI dimensions are refused before allocating', async () => {
    const nii = niftiHeader(-1, 65535, 100) // int16 field: 65535 reads as -1
    await expect(readInput(await file('neg.nii', nii))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/neg\.nii: invalid dimensions/) })
    await expect(readInput(await file('huge.nii', niftiHeader(32767, 32767, 32767)))).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringMatching(/huge\.nii: image 32767x32767x32767 int16 needs \d+ bytes, more than the limit/) })
    await expect(readInput(await file('zero.nii', niftiHeader(0, 4, 4)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/zero\.nii: invalid dimensions/) })
  })

  it.skipIf(REAL_FIXTURES == null)('truncated real DICOM and PNG', async () => {
    const root = REAL_FIXTURES as string
    const dcm = await readFile(join(root, 'github-cornerstone3D/CTImage_ExplicitLE.dcm'))
    await expect(readInput(await file('cut.dcm', dcm.subarray(0, dcm.length - 1000)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/cut\.dcm: truncated/) })
    await expect(readInput(await file('head.dcm', dcm.subarray(0, 200)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/head\.dcm: .*corrupt DICOM/) })
    const png = await readFile(join(root, 'github-reproduce-chexnet/00000075_000.png'))
    await expect(readInput(await file('cutreal.png', png.subarray(0, png.length >> 1)))).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/cutreal\.png: truncated PNG/) })
  })
})
