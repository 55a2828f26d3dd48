/**
 * Comparing a NIfTI that mist-p2p wrote with the NIfTI dcm2niix wrote of the
 * same DICOM (nibabel in python): the voxel-to-world maps must agree up to
 * dcm2niix's choice of axis order and direction (it flips rows and may reverse
 * slices), checked as the largest distance in mm between the world positions
 * of the corner voxels, and the world values (stored x slope + intercept) must
 * be equal voxel by voxel after the same reindexing.
 */
import { execFile } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** What compareWithDcm2niix measures. */
export interface Comparison {
  shape: number[]
  refShape: number[]
  /** Our voxel axes as signed ref axes (1-based, negative: reversed), e.g. [1, -2, 3]: rows flipped. */
  axes: number[]
  /** Largest distance (mm) between our and the reference world position of any corner voxel. */
  affineMm: number
  /** Whether the 3x3 part maps our grid onto the ref grid (a signed permutation, integer offset). */
  grid: boolean
  /** World values equal voxel by voxel (exactly, or within `rtol` of the value range when given). */
  equal: boolean
  /** World values equal modulo 4096 voxel by voxel (the low 12 bits agree). */
  equalMod4096: boolean
  /** Stored (unscaled) values equal voxel by voxel. */
  storedEqual: boolean
  maxDiff: number
  /** Ratio ref/ours of world values when they differ by a constant factor (Philips floating-point scaling), else null. */
  ratio: number | null
  dtype: string
  refDtype: string
  /** scl_slope, scl_inter as nibabel leaves them in the header (null: unset). */
  scl: Array<number | null>
  refScl: Array<number | null>
}

const COMPARE = `
import sys, json, itertools, numpy as np, nibabel as nib
ours, ref = nib.load(sys.argv[1]), nib.load(sys.argv[2])
num = lambda x: None if not np.isfinite(x) else float(x)
t = int(sys.argv[3])
A, B = ours.affine, ref.affine
a = ours.get_fdata(dtype=np.float64)
b = ref.get_fdata(dtype=np.float64)
ua = np.asanyarray(ours.dataobj.get_unscaled()).astype(np.float64)
ub = np.asanyarray(ref.dataobj.get_unscaled()).astype(np.float64)
if b.ndim == 4: b, ub = b[..., t], ub[..., t]
if a.ndim == 4: a, ua = a[..., 0], ua[..., 0]
M = np.linalg.inv(B) @ A
R = np.round(M[:3, :3])
off = np.round(M[:3, 3])
grid = bool(np.all(np.abs(M[:3, :3] - R) < 1e-3) and np.all(np.abs(M[:3, 3] - off) < 1e-2) and sorted(np.abs(R).sum(axis=0).tolist()) == [1, 1, 1])
axes = [int((np.argmax(np.abs(R[:, j])) + 1) * np.sign(R[np.argmax(np.abs(R[:, j])), j])) for j in range(3)]
corners = np.array([[c[0] * (a.shape[0] - 1), c[1] * (a.shape[1] - 1), c[2] * (a.shape[2] - 1), 1] for c in itertools.product([0, 1], repeat=3)]).T
wo = A @ corners
rc = np.vstack([R @ corners[:3] + off[:, None], np.ones((1, corners.shape[1]))])
wr = B @ rc
mm = float(np.max(np.linalg.norm((wo - wr)[:3], axis=0)))
equal, stored, mod4096, maxdiff, ratio = False, False, False, -1.0, None
if grid:
    idx = np.indices(a.shape).reshape(3, -1)
    j = (R @ idx + off[:, None]).astype(int)
    inside = np.all((j >= 0) & (j < np.array(b.shape[:3])[:, None]), axis=0)
    if inside.all() and int(np.prod(a.shape)) == int(np.prod(b.shape[:3])):
        av = a.reshape(-1, order='C')[np.ravel_multi_index(idx, a.shape)]
        bv = b[tuple(j)]
        stored = bool(np.array_equal(ua.reshape(-1)[np.ravel_multi_index(idx, a.shape)], ub[tuple(j)]))
        d = np.abs(av - bv)
        mod4096 = bool(np.all(np.mod(av - bv, 4096) == 0))
        maxdiff = float(d.max())
        equal = bool(maxdiff <= 1e-6 * max(1.0, float(np.abs(bv).max())))
        nz = np.abs(av) > 0
        if not equal and nz.any():
            r = bv[nz] / av[nz]
            if float(np.ptp(r)) <= 1e-5 * abs(float(np.median(r))): ratio = float(np.median(r))
print(json.dumps({"shape": list(a.shape), "refShape": list(b.shape[:3]), "axes": axes, "affineMm": mm, "grid": grid, "equal": equal, "storedEqual": stored, "equalMod4096": mod4096, "maxDiff": maxdiff, "ratio": ratio,
  "dtype": str(ours.get_data_dtype()), "refDtype": str(ref.get_data_dtype()),
  "scl": [num(ours.header['scl_slope']), num(ours.header['scl_inter'])], "refScl": [num(ref.header['scl_slope']), num(ref.header['scl_inter'])]}))
`

/** Compares our NIfTI with volume `t` of dcm2niix's (t = 0 for 3D). */
export async function compareWithDcm2niix (python: string, ours: string, ref: string, t = 0): Promise<Comparison> {
  const { stdout } = await run(python, ['-c', COMPARE, ours, ref, String(t)], { maxBuffer: 1 << 26 })
  return JSON.parse(stdout) as Comparison
}

/** Runs dcm2niix on a directory (uncompressed NIfTI, no BIDS sidecar) and returns the .nii files it wrote, sorted. */
export async function runDcm2niix (dcm2niix: string, input: string, out: string, extra: string[] = []): Promise<string[]> {
  await mkdir(out, { recursive: true })
  await run(dcm2niix, ['-z', 'n', '-b', 'n', '-f', '%s_%e', ...extra, '-o', out, input], { maxBuffer: 1 << 24 })
  return (await readdir(out)).filter(f => f.endsWith('.nii')).sort().map(f => join(out, f))
}
