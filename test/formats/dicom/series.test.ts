/**
 * A DICOM series becomes one volume: the TotalSegmentator CT series against
 * the NIfTI that dcm2niix made from it (shape, and affine once dcm2niix's row
 * flip is applied) and against pydicom's pixels of each slice.
 */
import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { readSeries } from '../../../src/formats/index.js'
import { PYTHON_NIBABEL, REAL_FIXTURES } from '../../helpers/env.js'

const REFERENCE = `
import sys, json, glob, hashlib, numpy as np, nibabel as nib, pydicom
img = nib.load(sys.argv[1])
slices = [pydicom.dcmread(p) for p in sys.argv[2:]]
slices.sort(key=lambda d: float(np.dot(np.asarray(d.ImagePositionPatient, float), np.cross(np.asarray(d.ImageOrientationPatient[:3], float), np.asarray(d.ImageOrientationPatient[3:], float)))))
vol = np.stack([d.pixel_array.astype('<u2') for d in slices])
print(json.dumps({"shape": list(img.shape), "affine": img.affine.tolist(), "sha": hashlib.sha256(vol.tobytes()).hexdigest()}))
`

describe.skipIf(REAL_FIXTURES == null || PYTHON_NIBABEL == null)('readSeries', () => {
  it('TotalSegmentator CT series = dcm2niix NIfTI geometry and pydicom pixels', async () => {
    const root = REAL_FIXTURES as string
    const dir = join(root, 'github-TotalSegmentator/example_ct_dicom')
    const files = readdirSync(dir).filter(f => f.endsWith('.dcm')).map(f => join(dir, f)).reverse()
    const items = await readSeries(files)
    expect(items).toHaveLength(1)
    const v = items[0]
    if (v.kind !== 'volume') throw new Error('expected a volume')
    const ref = JSON.parse(execFileSync(PYTHON_NIBABEL as string, ['-c', REFERENCE, join(root, 'github-TotalSegmentator/example_seg_dicom.nii.gz'), ...files], { encoding: 'utf8', maxBuffer: 1 << 26 })) as { shape: number[], affine: number[][], sha: string }
    expect(v.meta.dims).toEqual(ref.shape)
    expect(v.sliceCount).toBe(ref.shape[2])
    // dcm2niix flips rows: its voxel (i, j, k) is ours (i, ny-1-j, k), so its affine is A * F with F: j -> ny-1-j.
    const A = v.meta.affine
    const ny = v.meta.dims[1]
    const flipped = [0, 1, 2, 3].map(r => [A[4 * r], -A[4 * r + 1], A[4 * r + 2], A[4 * r + 3] + A[4 * r + 1] * (ny - 1)])
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(flipped[r][c], `affine[${r}][${c}]`).toBeCloseTo(ref.affine[r][c], 3)
    expect(v.meta.spacing[2]).toBeCloseTo(2, 6)
    const parts: Buffer[] = []
    for await (const s of v.slices()) parts.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
    const { createHash } = await import('node:crypto')
    expect(createHash('sha256').update(Buffer.concat(parts)).digest('hex')).toBe(ref.sha)
    const json = JSON.stringify(v.meta)
    expect(json).not.toMatch(/\d+\.\d+\.\d+\.\d+\.\d+/) // no UID-like strings
  })

  it('files of different series stay apart', async () => {
    const root = REAL_FIXTURES as string
    const items = await readSeries([join(root, 'github-DICOMHTJ2K/uncompressed/CT1_UNC.dcm'), join(root, 'github-DICOMHTJ2K/uncompressed/MR1_UNC.dcm')])
    expect(items.map(i => i.kind)).toEqual(['image', 'image'])
  })
})
