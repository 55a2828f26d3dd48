import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { readInput } from '../src/formats/index.js'
import type { InputItem } from '../src/types.js'
import { PYTHON_NIBABEL, REAL_FIXTURES } from './helpers/env.js'

const NATIVE = ['1.2.840.10008.1.2 ', '1.2.840.10008.1.2.1 ', '1.2.840.10008.1.2.2 ', '1.2.840.10008.1.2.1.99']
/** Native-syntax fixtures we do not handle yet, with the reason we give. */
const UNSUPPORTED: Record<string, RegExp> = {
  'github-cornerstone3D/US-YBR_FULL_422-EVRLE.dcm': /YBR_FULL_422 .*not supported yet/,
  'github-pydicom-data/OBXXXX1A.dcm': /PALETTE COLOR is not supported yet/,
  'github-pydicom-data/liver.dcm': /BitsAllocated 1 is not supported yet/
}

/** pydicom's pixel_array, with the standard masking above BitsStored / sign extension (pydicom 2.3 skips it), hashed as little-endian bytes. */
const PYDICOM = `
import sys, json, hashlib, numpy as np, pydicom
out = []
for p in sys.argv[1:]:
    d = pydicom.dcmread(p)
    a = d.pixel_array.astype(np.int64)
    bs = int(d.BitsStored); a = a & ((1 << bs) - 1)
    if int(d.PixelRepresentation) == 1: a = np.where(a >= (1 << (bs - 1)), a - (1 << bs), a)
    dt = ("i" if int(d.PixelRepresentation) == 1 else "u") + ("1" if bs <= 8 else "2")
    ids = [str(d.get(k, "")) for k in ("PatientName", "PatientID", "PatientBirthDate", "InstitutionName")]
    out.append({"sha": hashlib.sha256(a.astype("<" + dt).tobytes()).hexdigest(), "shape": list(a.shape), "ids": ids})
print(json.dumps(out))
`

async function pixelBytes (item: InputItem): Promise<Buffer> {
  if (item.kind === 'image') return Buffer.from(item.image.data.buffer, item.image.data.byteOffset, item.image.data.byteLength)
  const parts: Buffer[] = []
  for await (const s of item.slices()) parts.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
  return Buffer.concat(parts)
}

describe.skipIf(REAL_FIXTURES == null)('real DICOM fixtures', async () => {
  const root = REAL_FIXTURES as string
  const rows = (await readFile(join(root, 'MANIFEST.tsv'), 'utf8')).split('\n').slice(1).map(l => l.split('\t')).filter(r => r[1] === 'DICOM')
  const native = rows.filter(r => NATIVE.some(ts => `${r[6]} `.includes(ts))).map(r => r[0])
  const compressed = rows.filter(r => !native.includes(r[0]))

  it('finds the fixtures', () => {
    expect(native.length).toBeGreaterThanOrEqual(30)
    expect(compressed.length).toBeGreaterThanOrEqual(40)
  })

  it('compressed transfer syntaxes give UnsupportedInputError naming the syntax and the file', async () => {
    for (const r of compressed) {
      const uid = r[6].split(' ').pop() as string
      await expect(readInput(join(root, r[0])), r[0]).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringContaining(`transfer syntax ${uid} (`) })
      await expect(readInput(join(root, r[0]))).rejects.toThrow(r[0])
    }
  })

  it('native files we do not handle yet give a specific UnsupportedInputError', async () => {
    for (const [rel, re] of Object.entries(UNSUPPORTED)) {
      await expect(readInput(join(root, rel))).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringMatching(re) })
    }
  })

  it('12-bit fixtures: bits above BitsStored are masked, signed data sign-extended', async () => {
    const u = await readInput(join(root, 'github-dcm_qa_12bit/12bitUnsigned.dcm'))
    const s = await readInput(join(root, 'github-dcm_qa_12bit/12bitSigned_0x0F0F.dcm'))
    if (u.kind !== 'image' || s.kind !== 'image') throw new Error('expected images')
    expect(u.image.bitsStored).toBe(12)
    expect(u.image.data).toBeInstanceOf(Uint16Array)
    expect(u.image.data.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(4095)
    expect(s.image.data).toBeInstanceOf(Int16Array)
    expect(s.image.signed).toBe(true)
    expect(s.image.data.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(2047)
    expect(s.image.data.reduce((m, v) => Math.min(m, v), 0)).toBeGreaterThanOrEqual(-2048)
    expect(s.image.data.includes(-1)).toBe(true) // 0xFFFF stored -> -1
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

  it.skipIf(PYTHON_NIBABEL == null)('pixels equal pydicom\'s and no patient identifier (parts of 4+ characters) leaks into meta', async () => {
    const readable = native.filter(r => UNSUPPORTED[r] == null)
    const refs = JSON.parse(execFileSync(PYTHON_NIBABEL as string, ['-c', PYDICOM, ...readable.map(r => join(root, r))], { encoding: 'utf8', maxBuffer: 1 << 26 }))
    for (const [i, rel] of readable.entries()) {
      const item = await readInput(join(root, rel))
      const mine = createHash('sha256').update(await pixelBytes(item)).digest('hex')
      expect(mine, rel).toBe(refs[i].sha)
      const json = JSON.stringify(item.meta)
      for (const id of refs[i].ids as string[]) {
        for (const part of id.split(/[\^=]/).map(s => s.trim()).filter(s => s.length >= 4)) expect(json, `${rel}: ${part}`).not.toContain(part)
      }
    }
    expect(readable.length).toBeGreaterThanOrEqual(25)
  })
})
