/**
 * Publishing what a consortium holds, through the real binary: float NIfTI with
 * integer values round-trips exactly, a real-valued float NIfTI is refused
 * without --quantize and reports its measured error with it, a 4D NIfTI becomes
 * one volume per time point, and --keep-text decides whether NIfTI free text is published.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeVolumeRoot } from '../../src/chunker/index.js'
import { Repo } from '../../src/repo/index.js'
import { CID } from 'multiformats/cid'
import { cli } from '../helpers/cli.js'
import { PYTHON_NIBABEL, REAL_FIXTURES } from '../helpers/env.js'
import { tempDir } from '../helpers/tmp.js'

const run = promisify(execFile)
const py = async (script: string, ...args: string[]): Promise<any> => JSON.parse((await run(PYTHON_NIBABEL as string, ['-c', script, ...args], { maxBuffer: 1 << 26 })).stdout)

const COMPARE = `
import sys, json, numpy as np, nibabel as nib
a, b = nib.load(sys.argv[1]), nib.load(sys.argv[2])
x, y = a.get_fdata(), b.get_fdata()
print(json.dumps({"dtype": str(a.get_data_dtype()), "shape": list(a.shape), "srcShape": list(b.shape), "maxdiff": float(np.max(np.abs(x - y))) if x.shape == y.shape else -1,
  "affine": bool(np.allclose(a.affine, b.affine, atol=1e-4))}))
`

describe.skipIf(PYTHON_NIBABEL == null)('publish CLI: float, quantized, 4D and text', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let repo: string

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('mist-pubcli-'))
    repo = join(dir, 'repo')
    // float32 with integer values, a 4D int16 file with descrip text
    await run(PYTHON_NIBABEL as string, ['-c', `
import sys, numpy as np, nibabel as nib
rng = np.random.default_rng(7)
a = np.diag([0.8, 0.8, 1.5, 1.0]); a[:3, 3] = [-40, -30, 12]
v = (rng.integers(-3000, 3000, size=(48, 40, 6))).astype(np.float32)
nib.save(nib.Nifti1Image(v, a), sys.argv[1] + '/float_int.nii.gz')
t = rng.integers(-500, 1500, size=(20, 16, 4, 3)).astype(np.int16)
img = nib.Nifti1Image(t, a)
img.header['descrip'] = b'fMRI run 1'
nib.save(img, sys.argv[1] + '/fmri.nii.gz')
`, dir])
  })
  afterAll(async () => cleanup?.())

  it('float32 with integer values round-trips exactly through publish and get --format nii', async () => {
    const pub = await cli(['publish', join(dir, 'float_int.nii.gz'), '--repo', repo, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const out = JSON.parse(pub.stdout)
    expect(out.images[0].valueMapping).toMatchObject({ dtype: 'float32', maxAbsError: 0 })
    const nii = join(dir, 'float_int-out.nii')
    const get = await cli(['get', out.root, '--format', 'nii', '-o', nii, '--repo', repo])
    expect(get.code, get.stderr).toBe(0)
    const r = await py(COMPARE, nii, join(dir, 'float_int.nii.gz'))
    expect(r).toEqual({ dtype: 'float32', shape: [48, 40, 6], srcShape: [48, 40, 6], maxdiff: 0, affine: true })
  }, 120_000)

  it.skipIf(REAL_FIXTURES == null)('big.nii.gz is refused without --quantize and reports its measured error with it', async () => {
    const big = join(REAL_FIXTURES as string, 'github-NIFTI-Reader-JS/big.nii.gz')
    const refused = await cli(['publish', big, '--repo', repo, '--json'])
    expect(refused.code).toBe(1)
    const r = JSON.parse(refused.stdout)
    expect(r.failures[0].error.name).toBe('UnsupportedInputError')
    expect(r.failures[0].error.message).toContain('--quantize')
    const pub = await cli(['publish', big, '--quantize', '--repo', repo, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const out = JSON.parse(pub.stdout)
    const err = out.images[0].maxAbsError as number
    expect(err).toBeGreaterThan(0)
    expect(out.images[0].valueMapping).toMatchObject({ dtype: 'float32', maxAbsError: err })
    const human = await cli(['publish', big, '--quantize', '--repo', repo])
    expect(human.stdout).toMatch(/quantized from float32: max error \d/)
    // the float32 output is within the measured error of nibabel's values (plus float32 rounding of the output)
    const nii = join(dir, 'big-out.nii')
    expect((await cli(['get', out.root, '-o', nii, '--repo', repo])).code).toBe(0)
    const c = await py(COMPARE, nii, big)
    expect(c.dtype).toBe('float32')
    expect(c.affine).toBe(true)
    expect(c.maxdiff).toBeLessThanOrEqual(err * 1.0001 + 1e-6)
  }, 120_000)

  it('a 4D NIfTI is one volume per time point (name#tN); text only with --keep-text', async () => {
    const src = join(dir, 'fmri.nii.gz')
    const plain = await cli(['publish', src, '--repo', repo, '--json'])
    expect(plain.code, plain.stderr).toBe(0)
    const out = JSON.parse(plain.stdout)
    expect(out.images.map((i: any) => i.name)).toEqual(['fmri.nii.gz#t0', 'fmri.nii.gz#t1', 'fmri.nii.gz#t2'])
    const withText = JSON.parse((await cli(['publish', src, '--keep-text', '--repo', repo, '--json'])).stdout)
    const store = await Repo.open({ path: repo })
    try {
      for (const [t, item] of out.images.entries()) {
        const cid = CID.parse(item.root)
        const root = decodeVolumeRoot(await store.get(cid), cid)
        expect(root.meta.frame).toEqual({ index: t, count: 3 })
        expect(root.meta.text).toBeUndefined()
        const kept = CID.parse(withText.images[t].root)
        expect(decodeVolumeRoot(await store.get(kept), kept).meta.text).toEqual({ descrip: 'fMRI run 1' })
      }
    } finally {
      await store.close()
    }
    // getting the dataset writes one NIfTI per time point
    const outDir = join(dir, 'fmri-out')
    const get = await cli(['get', out.root, '-o', outDir, '--repo', repo, '--json'])
    expect(get.code, get.stderr).toBe(0)
    const paths = JSON.parse(get.stdout).outputs.map((o: any) => o.paths[0])
    expect(paths).toEqual([0, 1, 2].map(t => join(outDir, `fmri#t${t}.nii`)))
    const r = await py(`
import sys, json, numpy as np, nibabel as nib
src = np.asanyarray(nib.load(sys.argv[1]).dataobj)
print(json.dumps([bool(np.array_equal(np.asanyarray(nib.load(p).dataobj), src[..., t])) for t, p in enumerate(sys.argv[2:])]))
`, src, ...paths)
    expect(r).toEqual([true, true, true])
  }, 120_000)
})
