import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtemp, writeFile, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { encodeNifti, readInput, unmap16, writeNifti } from '../../../src/formats/index.js'
import type { InputItem, RasterImage, VolumeMeta } from '../../../src/types.js'
import { PYTHON_NIBABEL, REAL_FIXTURES } from '../../helpers/env.js'

async function volumeBytes (item: InputItem): Promise<Buffer> {
  if (item.kind !== 'volume') throw new Error('expected volume')
  const parts: Buffer[] = []
  for await (const s of item.slices()) parts.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
  return Buffer.concat(parts)
}

function syntheticVolume (nx: number, ny: number, nz: number): { meta: VolumeMeta, slices: RasterImage[] } {
  const slices: RasterImage[] = []
  for (let z = 0; z < nz; z++) {
    const data = new Int16Array(nx * ny).map((_, i) => ((i * 7919 + z * 104729) % 65536) - 32768)
    slices.push({ width: nx, height: ny, components: 1, bitsStored: 16, signed: true, data })
  }
  const meta: VolumeMeta = {
    sourceFormat: 'nifti', dims: [nx, ny, nz], spacing: [0.5, 0.75, 2], dtype: 'int16',
    affine: [0, -0.75, 0, 10, 0.5, 0, 0, -20, 0, 0, 2, 30, 0, 0, 0, 1],
    rescale: { slope: 2, intercept: -1024 },
    nifti: { qformCode: 1, sformCode: 2, xyztUnits: 10, quatern: [0, 0, Math.SQRT1_2], qoffset: [10, -20, 30], qfac: 1 }
  }
  return { meta, slices }
}

/** Take every 2^k-th sample in x and y: what resolution level k holds at those positions. */
function decimate (s: RasterImage, k: number): RasterImage {
  const f = 2 ** k; const w = Math.ceil(s.width / f); const h = Math.ceil(s.height / f)
  const data = new (s.data.constructor as new (n: number) => RasterImage['data'])(w * h)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = s.data[y * f * s.width + x * f]
  return { ...s, width: w, height: h, data }
}

describe('NIfTI round trip', () => {
  it('encodeNifti -> readInput is bit-exact with meta preserved (.nii and .nii.gz)', async () => {
    const { meta, slices } = syntheticVolume(13, 9, 4)
    const dir = await mkdtemp(join(tmpdir(), 'mist-nii-'))
    for (const name of ['v.nii', 'v.nii.gz']) {
      await writeNifti(join(dir, name), meta, slices)
      const item = await readInput(join(dir, name))
      if (item.kind !== 'volume') throw new Error('expected volume')
      expect(item.sliceCount).toBe(4)
      expect(item.meta.dims).toEqual([13, 9, 4])
      expect(item.meta.spacing).toEqual([0.5, 0.75, 2])
      expect(item.meta.dtype).toBe('int16')
      expect(item.meta.rescale).toEqual({ slope: 2, intercept: -1024 })
      expect(item.meta.affine).toEqual(meta.affine)
      expect(item.meta.nifti).toMatchObject({ qformCode: 1, sformCode: 2, xyztUnits: 10, qfac: 1 })
      expect(Buffer.compare(await volumeBytes(item), Buffer.concat(slices.map(s => Buffer.from(s.data.buffer))))).toBe(0)
    }
    expect((await readdir(dir)).sort()).toEqual(['v.nii', 'v.nii.gz'])
  })

  it('reads big-endian uint16 and int8 files', async () => {
    for (const [code, name, bytes] of [[512, 'uint16', 2], [256, 'int8', 1]] as const) {
      const { meta } = syntheticVolume(3, 2, 2)
      const le = encodeNifti({ ...meta, dtype: name, rescale: undefined }, [0, 1].map(z => {
        const data = bytes === 2 ? new Uint16Array(6).map((_, i) => 1000 * i + z + 258) : new Int8Array(6).map((_, i) => i - 3 + z)
        return { width: 3, height: 2, components: 1, bitsStored: bytes * 8, signed: name === 'int8', data }
      }))
      const be = new Uint8Array(le)
      const view = new DataView(be.buffer); const src = new DataView(le.buffer)
      const swap = (o: number, n: number): void => { for (let i = 0; i < n; i++) be[o + i] = le[o + n - 1 - i] }
      for (const o of [0, 108, 112, 116, 256, 260, 264, 268, 272, 276]) swap(o, 4)
      for (let i = 0; i < 8; i++) { swap(40 + 2 * i, 2); swap(76 + 4 * i, 4) }
      for (let i = 0; i < 12; i++) swap(280 + 4 * i, 4)
      for (const o of [68, 70, 72, 252, 254]) swap(o, 2)
      if (bytes === 2) for (let o = 352; o < be.length; o += 2) swap(o, 2)
      expect(view.getInt16(70, false)).toBe(code); expect(src.getInt16(70, true)).toBe(code)
      const dir = await mkdtemp(join(tmpdir(), 'mist-nii-'))
      await writeFile(join(dir, 'be.nii'), be)
      const a = await volumeBytes(await readInput(join(dir, 'be.nii')))
      expect(Buffer.compare(a, Buffer.from(le.subarray(352)))).toBe(0)
    }
  })
})

function python (code: string, args: string[]): any {
  return JSON.parse(execFileSync(PYTHON_NIBABEL as string, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 }))
}

const NIB = `
import sys, json, hashlib, numpy as np, nibabel as nib
out = []
for p in sys.argv[1:]:
    img = nib.load(p)
    a = np.asarray(img.dataobj.get_unscaled())
    out.append({"shape": list(a.shape), "dtype": str(img.header.get_data_dtype().newbyteorder("=")), "affine": img.affine.tolist(), "zooms": [float(z) for z in img.header.get_zooms()],
      "slope_inter": [float(img.dataobj.slope), float(img.dataobj.inter)],
      "sha": hashlib.sha256(np.ascontiguousarray(a.reshape(a.shape[:3]).transpose(2, 1, 0)).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest(),
      "sum": int(a.astype(np.int64).sum()), "min": int(a.min()), "max": int(a.max())})
print(json.dumps(out))
`

describe.skipIf(PYTHON_NIBABEL == null)('NIfTI output opened by nibabel', () => {
  it('level k output has the expected shape, dtype, scaled affine and values', async () => {
    const { meta, slices } = syntheticVolume(13, 9, 3)
    const dir = await mkdtemp(join(tmpdir(), 'mist-nib-'))
    for (const k of [0, 1, 2]) {
      const level = slices.map(s => decimate(s, k))
      const path = join(dir, `l${k}.nii.gz`)
      await writeNifti(path, meta, level, { level: k })
      const [r] = python(NIB, [path])
      expect(r.shape).toEqual([Math.ceil(13 / 2 ** k), Math.ceil(9 / 2 ** k), 3])
      expect(r.dtype).toBe('int16')
      const f = 2 ** k
      const expected = [[0, -0.75 * f, 0, 10], [0.5 * f, 0, 0, -20], [0, 0, 2, 30], [0, 0, 0, 1]]
      r.affine.forEach((row: number[], i: number) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 5)))
      expect(r.zooms).toEqual([0.5 * f, 0.75 * f, 2])
      expect(r.slope_inter).toEqual([2, -1024])
      const mine = createHash('sha256').update(Buffer.concat(level.map(s => Buffer.from(s.data.buffer)))).digest('hex')
      expect(r.sha).toBe(mine)
    }
  })
})

/** Slices of a mapped volume restored to the source dtype, as little-endian bytes. */
async function restored (item: InputItem): Promise<Buffer[]> {
  if (item.kind !== 'volume' || item.meta.valueMapping == null) throw new Error('expected a mapped volume')
  const parts: Buffer[] = []
  for await (const s of item.slices()) {
    const wide = s.data instanceof Int16Array || s.data instanceof Uint16Array ? s.data : Uint16Array.from(s.data)
    const back = unmap16(wide, item.meta.valueMapping)
    parts.push(Buffer.from(back.buffer, back.byteOffset, back.byteLength))
  }
  return parts
}

describe.skipIf(REAL_FIXTURES == null)('real NIfTI fixtures', () => {
  const root = REAL_FIXTURES as string
  const expectations: Record<string, RegExp | 'ok' | 'mapped'> = {
    'github-NIFTI-Reader-JS/5D_small.nii': /5D NIfTI .* not supported: only 2D, 3D and 4D/,
    'github-NIFTI-Reader-JS/avg152T1_LR_nifti.nii': 'ok',
    'github-NIFTI-Reader-JS/avg152T1_LR_nifti2.nii.gz': 'mapped',
    'github-NIFTI-Reader-JS/big.nii.gz': /float32 values .* cannot be mapped to 16 bits without loss; pass --quantize/,
    'github-NIFTI-Reader-JS/little.nii.gz': /float32 values .* cannot be mapped to 16 bits without loss; pass --quantize/,
    'github-NIFTI-Reader-JS/with_extension.nii.gz': 'ok',
    'github-TotalSegmentator/example_ct.nii.gz': 'mapped',
    'github-TotalSegmentator/example_ct_sm.nii.gz': 'ok',
    'github-TotalSegmentator/example_mr_sm.nii.gz': 'ok',
    'github-TotalSegmentator/example_seg.nii.gz': 'ok',
    'github-TotalSegmentator/example_seg_dicom.nii.gz': 'ok',
    'github-TotalSegmentator/example_seg_mr.nii.gz': 'ok',
    'github-niivue-images/CT_AVM.nii.gz': 'ok',
    'github-niivue-images/CT_pitch.nii.gz': 'ok',
    'github-niivue-images/MR_Gd.nii.gz': 'ok'
  }
  it('covers every NIfTI fixture', async () => {
    const found: string[] = []
    for (const d of ['github-NIFTI-Reader-JS', 'github-TotalSegmentator', 'github-niivue-images']) {
      for (const f of await readdir(join(root, d))) if (/\.nii(\.gz)?$/.test(f)) found.push(`${d}/${f}`)
    }
    expect(found.sort()).toEqual(Object.keys(expectations).sort())
  })
  it('reads each fixture or gives a specific UnsupportedInputError', async () => {
    for (const [rel, want] of Object.entries(expectations)) {
      if (want === 'ok' || want === 'mapped') {
        const item = await readInput(join(root, rel))
        expect(item.kind).toBe('volume')
        expect(item.meta.valueMapping != null, rel).toBe(want === 'mapped')
      } else {
        await expect(readInput(join(root, rel))).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringMatching(want) })
        await expect(readInput(join(root, rel))).rejects.toThrow(rel)
      }
    }
  })
  it.skipIf(PYTHON_NIBABEL == null)('voxel values, affine and scaling equal nibabel\'s', async () => {
    const ok = Object.entries(expectations).filter(([, w]) => w === 'ok' || w === 'mapped').map(([r]) => r)
    const refs = python(NIB, ok.map(r => join(root, r)))
    for (const [i, rel] of ok.entries()) {
      const item = await readInput(join(root, rel))
      if (item.kind !== 'volume') throw new Error('expected volume')
      const ref = refs[i]
      expect(item.meta.dims, rel).toEqual(ref.shape.slice(0, 3))
      const mapping = item.meta.valueMapping
      // Mapped volumes (wider than 16 bits): the 16-bit slices restored through unmap16 equal the source voxels exactly.
      expect(mapping?.dtype ?? item.meta.dtype, rel).toBe(ref.dtype.replace(/^>|^</, ''))
      const bytes = mapping == null ? await volumeBytes(item) : Buffer.concat(await restored(item))
      expect(createHash('sha256').update(bytes).digest('hex'), rel).toBe(ref.sha)
      ref.affine.flat().forEach((v: number, j: number) => expect(item.meta.affine[j], `${rel} affine[${j}]`).toBeCloseTo(v, 4))
      const [slope, inter] = ref.slope_inter
      if (slope != null && !(slope === 1 && inter === 0)) {
        expect(item.meta.rescale?.slope, rel).toBeCloseTo(slope, 6)
        expect(item.meta.rescale?.intercept, rel).toBeCloseTo(inter ?? 0, 6)
      } else {
        expect(item.meta.rescale, rel).toBeUndefined()
      }
    }
  })
})
