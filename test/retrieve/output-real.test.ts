/**
 * Output formats against independent readers on real data: nibabel for NIfTI
 * (values, dtype, affine), numpy for .npy, dcmdump + pydicom + OpenJPEG for the
 * DICOM HTJ2K output; a DICOM CT series published as a directory is one volume
 * whose NIfTI matches dcm2niix's (shape, affine) and pydicom's pixels.
 */
import { execFile, execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { getImage, getVolume, retrieve } from '../../src/retrieve/index.js'
import type { SampleArray } from '../../src/types.js'
import { OPJ_DECOMPRESS, PYTHON_NIBABEL, REAL_FIXTURES } from '../helpers/env.js'
import { bytesOf, opjDecode } from '../helpers/opj.js'
import { tempDir } from '../helpers/tmp.js'

const run = promisify(execFile)
const py = async (script: string, ...args: string[]): Promise<any> => JSON.parse((await run(PYTHON_NIBABEL as string, ['-c', script, ...args], { maxBuffer: 1 << 28 })).stdout)

const NII_VS_SOURCE = `
import sys, json, numpy as np, nibabel as nib
ours, src = nib.load(sys.argv[1]), nib.load(sys.argv[2])
a, b = ours.get_fdata(), src.get_fdata()
print(json.dumps({"shape": list(ours.shape), "srcShape": list(src.shape[:3]), "dtype": str(ours.get_data_dtype()), "srcDtype": str(src.get_data_dtype()),
  "equal": bool(a.shape == b.shape and np.array_equal(a, b)), "maxdiff": float(np.max(np.abs(a - b))) if a.shape == b.shape else -1,
  "affine": ours.affine.tolist(), "srcAffine": src.affine.tolist(), "scl": [float(ours.dataobj.slope), float(ours.dataobj.inter)]}))
`

const SERIES_REF = `
import sys, json, numpy as np, nibabel as nib, pydicom
ours, ref = nib.load(sys.argv[1]), nib.load(sys.argv[2])
ds = [pydicom.dcmread(p) for p in sys.argv[3:]]
n = np.cross(np.asarray(ds[0].ImageOrientationPatient[:3], float), np.asarray(ds[0].ImageOrientationPatient[3:], float))
ds.sort(key=lambda d: float(np.dot(np.asarray(d.ImagePositionPatient, float), n)))
stack = np.stack([d.pixel_array for d in ds], axis=-1)          # (row, column, slice)
expected = np.flip(np.transpose(stack, (1, 0, 2)), axis=1)        # dcm2niix: (column, flipped row, slice)
raw = np.asanyarray(ours.dataobj.get_unscaled())
print(json.dumps({"shape": list(ours.shape), "refShape": list(ref.shape), "affine": ours.affine.tolist(), "refAffine": ref.affine.tolist(),
  "equal": bool(raw.shape == expected.shape and np.array_equal(raw, expected)),
  "scl": [float(ours.dataobj.slope), float(ours.dataobj.inter)], "rescale": [float(ds[0].RescaleSlope), float(ds[0].RescaleIntercept)]}))
`

const DCM_INFO = `
import sys, json, pydicom
from pydicom.encaps import generate_pixel_data_frame
d = pydicom.dcmread(sys.argv[1])
frames = list(generate_pixel_data_frame(d.PixelData))
open(sys.argv[2], 'wb').write(frames[0])
print(json.dumps({"ts": str(d.file_meta.TransferSyntaxUID), "sop": str(d.SOPClassUID), "rows": int(d.Rows), "cols": int(d.Columns),
  "spacing": [float(x) for x in d.PixelSpacing] if 'PixelSpacing' in d else None, "bitsStored": int(d.BitsStored), "bitsAllocated": int(d.BitsAllocated),
  "pixelRep": int(d.PixelRepresentation), "photometric": str(d.PhotometricInterpretation), "modality": str(d.Modality),
  "slope": float(d.RescaleSlope) if 'RescaleSlope' in d else None, "intercept": float(d.RescaleIntercept) if 'RescaleIntercept' in d else None,
  "position": [float(x) for x in d.ImagePositionPatient] if 'ImagePositionPatient' in d else None, "uid": str(d.SOPInstanceUID), "study": str(d.StudyInstanceUID),
  "patient": str(d.get('PatientName', '')) + str(d.get('PatientID', '')), "frames": len(frames), "fragmentLen": len(frames[0])}))
`

const NPY = `
import sys, json, numpy as np, nibabel as nib
a = np.load(sys.argv[1])
b = np.asanyarray(nib.load(sys.argv[2]).dataobj)
b = np.transpose(b, (2, 1, 0)) if b.ndim == 3 else b
print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "srcDtype": str(b.dtype), "equal": bool(a.shape == b.shape and np.array_equal(a, b))}))
`

const dcmdump = (path: string): { code: number, stderr: string } => {
  try {
    execFileSync('dcmdump', ['-q', path], { stdio: ['ignore', 'ignore', 'pipe'] })
    return { code: 0, stderr: '' }
  } catch (err: any) {
    return { code: err.status ?? 1, stderr: String(err.stderr) }
  }
}

describe.skipIf(REAL_FIXTURES == null || PYTHON_NIBABEL == null)('outputs on real data', () => {
  const F = REAL_FIXTURES as string
  let dir: string
  let cleanup: () => Promise<void>
  let repo: Repo

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('mist-out-'))
    repo = await Repo.open({ path: join(dir, 'repo'), create: true })
  })
  afterAll(async () => {
    await repo?.close()
    await cleanup?.()
  })

  it('a CT DICOM series directory is one volume whose NIfTI matches dcm2niix (shape, affine) and pydicom (pixels)', async () => {
    const series = join(F, 'github-TotalSegmentator/example_ct_dicom')
    const res = await publish([series], { repo })
    expect(res.failures).toEqual([])
    expect(res.items).toHaveLength(1)
    expect(res.items[0]).toMatchObject({ kind: 'volume', name: 'example_ct_dicom', images: 20, files: 20 })
    const out = join(dir, 'series')
    const got = await retrieve(repo, res.root!, { out, level: 'full' })
    expect(got.outputs.map(o => o.paths[0])).toEqual([join(out, 'example_ct_dicom.nii')])
    const files = (await readdir(series)).sort().map(f => join(series, f))
    const ref = await py(SERIES_REF, join(out, 'example_ct_dicom.nii'), join(F, 'github-TotalSegmentator/example_seg_dicom.nii.gz'), ...files)
    expect(ref.shape).toEqual(ref.refShape)
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(ref.affine[r][c], `affine[${r}][${c}]`).toBeCloseTo(ref.refAffine[r][c], 3)
    expect(ref.equal).toBe(true)
    expect(ref.scl).toEqual(ref.rescale)
  }, 300_000)

  it('int32 and NIfTI-2 float32 volumes come back with their dtype and nibabel\'s values', async () => {
    for (const rel of ['github-TotalSegmentator/example_ct.nii.gz', 'github-NIFTI-Reader-JS/avg152T1_LR_nifti2.nii.gz']) {
      const res = await publish([join(F, rel)], { repo })
      expect(res.failures).toEqual([])
      expect(res.items[0].valueMapping?.maxAbsError).toBe(0)
      const out = join(dir, rel.replace(/\W/g, '_') + '.nii')
      await retrieve(repo, res.root!, { out, level: 'full' })
      const r = await py(NII_VS_SOURCE, out, join(F, rel))
      expect(r.dtype, rel).toBe(r.srcDtype)
      expect(r.shape).toEqual(r.srcShape)
      expect(r.equal, `${rel}: max diff ${r.maxdiff}`).toBe(true)
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(r.affine[i][j]).toBeCloseTo(r.srcAffine[i][j], 4)
      // real-world values: same numbers (the sources have no scaling), scl reset
      const rescaled = join(dir, rel.replace(/\W/g, '_') + '-rw.nii')
      await retrieve(repo, res.root!, { out: rescaled, level: 'full', applyRescale: true })
      const rw = await py(NII_VS_SOURCE, rescaled, join(F, rel))
      expect(rw.equal).toBe(true)
    }
  }, 300_000)

  it('--apply-rescale writes real-world CT values as int16 when exact, and resets scl', async () => {
    const res = await publish([join(F, 'github-DICOMHTJ2K/uncompressed/CT1_UNC.dcm')], { repo })
    const out = join(dir, 'ct1-rw.nii')
    await retrieve(repo, res.root!, { out, level: 'full', applyRescale: true })
    const stored = join(dir, 'ct1.nii')
    await retrieve(repo, res.root!, { out: stored, level: 'full' })
    const r = await py(NII_VS_SOURCE, out, stored)
    expect(r.equal).toBe(true) // real-world values equal nibabel's scaling of the stored output
    expect(r.dtype).toBe('int16')
    expect(r.scl).toEqual([1, 0])
  }, 120_000)

  it('npy: an image (H x W), an int32 volume (Z x H x W in the source dtype)', async () => {
    const img = await publish([join(F, 'github-DICOMHTJ2K/uncompressed/MR4_UNC.dcm')], { repo })
    const npy = join(dir, 'mr4.npy')
    await retrieve(repo, img.root!, { out: npy, format: 'npy', level: 'full' })
    const got = await getImage(repo, img.root!, { level: 'full' })
    const bytes = await readFile(npy)
    expect(Buffer.compare(bytes.subarray(bytes.length - got.image.data.byteLength), bytesOf(got.image.data))).toBe(0)
    const ct = await publish([join(F, 'github-TotalSegmentator/example_ct.nii.gz')], { repo })
    const vol = join(dir, 'ct.npy')
    await retrieve(repo, ct.root!, { out: vol, format: 'npy', level: 'full' })
    const r = await py(NPY, vol, join(F, 'github-TotalSegmentator/example_ct.nii.gz'))
    expect(r).toEqual({ shape: [112, 101, 122], dtype: 'int32', srcDtype: 'int32', equal: true })
  }, 120_000)

  it.skipIf(OPJ_DECOMPRESS == null)('dcm: HTJ2K Lossless RPCL files that dcmdump accepts and that decode to the level\'s pixels', async () => {
    // a 12-bit MR image (dcm_qa_12bit's files were used here until mosaics became volumes)
    const sources = ['github-DICOMHTJ2K/uncompressed/CT1_UNC.dcm', 'github-DICOMHTJ2K/uncompressed/VL1_UNC.dcm', 'github-pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm']
    for (const rel of sources) {
      const res = await publish([join(F, rel)], { repo })
      const root = res.items[0]
      for (const level of [root.levels.length - 1, root.levels.length - 2]) {
        const out = join(dir, `${rel.replace(/\W/g, '_')}-L${level}.dcm`)
        await retrieve(repo, res.root!, { out, format: 'dcm', level })
        const dump = dcmdump(out)
        expect(dump, `${rel} L${level}`).toEqual({ code: 0, stderr: '' })
        const j2c = out + '.j2c'
        const info = await py(DCM_INFO, out, j2c)
        const got = await getImage(repo, res.root!, { level })
        expect(info).toMatchObject({ ts: '1.2.840.10008.1.2.4.202', sop: '1.2.840.10008.5.1.4.1.1.7', rows: got.image.height, cols: got.image.width, frames: 1, patient: '' })
        expect(info.fragmentLen % 2).toBe(0)
        expect(info.uid).toMatch(/^2\.25\.\d+$/)
        expect(info.pixelRep).toBe(got.image.signed ? 1 : 0)
        const f = 2 ** (root.levels.length - 1 - level)
        if (got.meta.spacing != null) {
          expect(info.spacing[0]).toBeCloseTo(got.meta.spacing[1] * f, 6)
          expect(info.spacing[1]).toBeCloseTo(got.meta.spacing[0] * f, 6)
        }
        if (got.meta.rescale != null) expect([info.slope, info.intercept]).toEqual([got.meta.rescale.slope, got.meta.rescale.intercept])
        const decoded = await opjDecode(await readFile(j2c), 0, { components: got.image.components, bitsStored: info.bitsStored, signed: got.image.signed })
        expect(Buffer.compare(bytesOf(decoded), bytesOf(widen(got.image.data, info.bitsAllocated, got.image.signed))), `${rel} level ${level}`).toBe(0)
      }
    }
  }, 300_000)

  it.skipIf(OPJ_DECOMPRESS == null)('dcm: a volume is a directory of one file per slice with positions along the slice axis', async () => {
    const res = await publish([join(F, 'github-TotalSegmentator/example_ct_sm.nii.gz')], { repo })
    const root = res.items[0]
    const level = root.levels.length - 2
    const out = join(dir, 'ct_sm_dcm')
    const got = await retrieve(repo, res.root!, { out, format: 'dcm', level })
    const paths = got.outputs[0].paths
    expect(paths).toHaveLength(30)
    const vol = await getVolume(repo, res.root!, { level })
    const studies = new Set<string>()
    const positions: number[][] = []
    for (const [z, p] of paths.entries()) {
      if (z % 7 !== 0 && z !== 29) continue
      expect(dcmdump(p)).toEqual({ code: 0, stderr: '' })
      const info = await py(DCM_INFO, p, p + '.j2c')
      studies.add(info.study)
      positions.push(info.position)
      expect([info.rows, info.cols]).toEqual([vol.slices[z].height, vol.slices[z].width])
      const decoded = await opjDecode(await readFile(p + '.j2c'), 0, { components: 1, bitsStored: info.bitsStored, signed: vol.slices[z].signed })
      expect(Buffer.compare(bytesOf(decoded), bytesOf(widen(vol.slices[z].data, info.bitsAllocated, vol.slices[z].signed))), `slice ${z}`).toBe(0)
    }
    expect(studies.size).toBe(1)
    // equally spaced along one axis, 3 mm apart (example_ct_sm has 3 mm voxels)
    const d = positions.slice(1).map((p, i) => Math.hypot(p[0] - positions[i][0], p[1] - positions[i][1], p[2] - positions[i][2]))
    expect(d[0] / 7).toBeCloseTo(3, 4)
  }, 300_000)
})

function widen (data: SampleArray, bitsAllocated: number, signed: boolean): SampleArray {
  if (bitsAllocated <= 8) return data
  if (data.BYTES_PER_ELEMENT === 2) return data
  return signed ? Int16Array.from(data) : Uint16Array.from(data)
}
