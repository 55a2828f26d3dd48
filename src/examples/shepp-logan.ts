/**
 * 3D Shepp–Logan head phantom: the ten ellipsoids of the 3D modified
 * Shepp–Logan phantom (Kak & Slaney geometry, Toft's modification, as in
 * Schabel's phantom3d), with CT-like attenuation in Hounsfield units.
 */
import type { RasterImage, VolumeMeta } from '../types.js'

/** One ellipsoid: HU added inside, semi-axes a,b,c, centre x0,y0,z0, Euler angles phi,theta,psi (degrees). */
interface Ellipsoid { hu: number, a: number, b: number, c: number, x0: number, y0: number, z0: number, phi: number, theta: number, psi: number }

// Geometry of the modified 3D Shepp–Logan phantom; intensities replaced by HU
// increments: air -1000, skull +1000, brain +40, ventricles (CSF) +5, lesions +60..+100.
const ELLIPSOIDS: Ellipsoid[] = [
  { hu: 2000, a: 0.69, b: 0.92, c: 0.81, x0: 0, y0: 0, z0: 0, phi: 0, theta: 0, psi: 0 },
  { hu: -960, a: 0.6624, b: 0.874, c: 0.78, x0: 0, y0: -0.0184, z0: 0, phi: 0, theta: 0, psi: 0 },
  { hu: -35, a: 0.11, b: 0.31, c: 0.22, x0: 0.22, y0: 0, z0: 0, phi: -18, theta: 0, psi: 10 },
  { hu: -35, a: 0.16, b: 0.41, c: 0.28, x0: -0.22, y0: 0, z0: 0, phi: 18, theta: 0, psi: 10 },
  { hu: 20, a: 0.21, b: 0.25, c: 0.41, x0: 0, y0: 0.35, z0: -0.15, phi: 0, theta: 0, psi: 0 },
  { hu: 40, a: 0.046, b: 0.046, c: 0.05, x0: 0, y0: 0.1, z0: 0.25, phi: 0, theta: 0, psi: 0 },
  { hu: 40, a: 0.046, b: 0.046, c: 0.05, x0: 0, y0: -0.1, z0: 0.25, phi: 0, theta: 0, psi: 0 },
  { hu: 60, a: 0.046, b: 0.023, c: 0.05, x0: -0.08, y0: -0.605, z0: 0, phi: 0, theta: 0, psi: 0 },
  { hu: 60, a: 0.023, b: 0.023, c: 0.02, x0: 0, y0: -0.606, z0: 0, phi: 0, theta: 0, psi: 0 },
  { hu: 60, a: 0.023, b: 0.046, c: 0.02, x0: 0.06, y0: -0.605, z0: 0, phi: 0, theta: 0, psi: 0 }
]

/** Rotation matrix of phantom3d for Euler angles in degrees. */
function rotation (e: Ellipsoid): number[] {
  const r = Math.PI / 180
  const [cp, sp] = [Math.cos(e.phi * r), Math.sin(e.phi * r)]
  const [ct, st] = [Math.cos(e.theta * r), Math.sin(e.theta * r)]
  const [cs, ss] = [Math.cos(e.psi * r), Math.sin(e.psi * r)]
  return [
    cs * cp - ct * sp * ss, cs * sp + ct * cp * ss, ss * st,
    -ss * cp - ct * sp * cs, -ss * sp + ct * cp * cs, cs * st,
    st * sp, -st * cp, ct
  ]
}

/**
 * A size x size x slices int16 CT-like volume (values -1000..+1000 HU),
 * 1 mm isotropic voxels: the slices are the central slab of the phantom.
 * The affine puts the phantom centre at the origin (RAS, qform = sform = 2).
 */
export function sheppLoganVolume (options?: { size?: number, slices?: number }): { meta: VolumeMeta, slices: RasterImage[] } {
  const n = options?.size ?? 128
  const nz = options?.slices ?? 32
  if (!Number.isInteger(n) || n < 2 || n > 4096 || !Number.isInteger(nz) || nz < 1 || nz > 4096) {
    throw new RangeError(`sheppLoganVolume: invalid size ${n} or slices ${nz}`)
  }
  const step = 2 / (n - 1) // normalised units per voxel, the same along z (isotropic)
  const coord = (i: number, count: number): number => (i - (count - 1) / 2) * step
  const rotations = ELLIPSOIDS.map(rotation)
  const slices: RasterImage[] = []
  for (let k = 0; k < nz; k++) {
    const z = coord(k, nz)
    const data = new Int16Array(n * n)
    for (let j = 0; j < n; j++) {
      const y = coord(j, n)
      for (let i = 0; i < n; i++) {
        const x = coord(i, n)
        let hu = -1000
        ELLIPSOIDS.forEach((e, idx) => {
          const m = rotations[idx]
          const xp = m[0] * x + m[1] * y + m[2] * z - e.x0
          const yp = m[3] * x + m[4] * y + m[5] * z - e.y0
          const zp = m[6] * x + m[7] * y + m[8] * z - e.z0
          if ((xp * xp) / (e.a * e.a) + (yp * yp) / (e.b * e.b) + (zp * zp) / (e.c * e.c) <= 1) hu += e.hu
        })
        data[j * n + i] = Math.max(-1000, Math.min(1000, hu))
      }
    }
    slices.push({ width: n, height: n, components: 1, bitsStored: 16, signed: true, data })
  }
  const half = (c: number): number => -(c - 1) / 2
  const meta: VolumeMeta = {
    sourceFormat: 'synthetic',
    modality: 'CT',
    dims: [n, n, nz],
    spacing: [1, 1, 1],
    affine: [1, 0, 0, half(n), 0, 1, 0, half(n), 0, 0, 1, half(nz), 0, 0, 0, 1],
    dtype: 'int16',
    nifti: { qformCode: 2, sformCode: 2, xyztUnits: 2 }
  }
  return { meta, slices }
}
