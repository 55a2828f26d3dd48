/**
 * NIfTI spatial transforms: quaternion <-> matrix (as nifti1_io does) and the
 * resolution-level scaling rule. Matrices are row-major 4x4 arrays of 16 numbers.
 */

/** The qform of a header, as nifti_quatern_to_mat44 computes it. */
export function quaternToAffine (quatern: number[], qoffset: number[], pixdim: number[], qfac: number): number[] {
  let [b, c, d] = quatern
  let a = 1 - (b * b + c * c + d * d)
  if (a < 1e-7) {
    a = 1 / Math.sqrt(b * b + c * c + d * d)
    b *= a; c *= a; d *= a
    a = 0
  } else {
    a = Math.sqrt(a)
  }
  const xd = pixdim[0] > 0 ? pixdim[0] : 1
  const yd = pixdim[1] > 0 ? pixdim[1] : 1
  let zd = pixdim[2] > 0 ? pixdim[2] : 1
  if (qfac < 0) zd = -zd
  return [
    (a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, qoffset[0],
    2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, qoffset[1],
    2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, qoffset[2],
    0, 0, 0, 1
  ]
}

/**
 * Quaternion, offset and qfac of an affine whose 3x3 part is a rotation times
 * a diagonal scaling (nifti_mat44_to_quatern without the polar decomposition).
 */
export function affineToQuatern (m: number[]): { quatern: [number, number, number], qoffset: [number, number, number], qfac: number } {
  const col = (j: number): number[] => [m[j], m[4 + j], m[8 + j]]
  const norm = (v: number[]): number[] => {
    const n = Math.hypot(v[0], v[1], v[2])
    return n > 0 ? v.map(x => x / n) : v
  }
  const c0 = norm(col(0)); const c1 = norm(col(1)); let c2 = norm(col(2))
  const det = c0[0] * (c1[1] * c2[2] - c1[2] * c2[1]) - c1[0] * (c0[1] * c2[2] - c0[2] * c2[1]) + c2[0] * (c0[1] * c1[2] - c0[2] * c1[1])
  let qfac = 1
  if (det < 0) { qfac = -1; c2 = c2.map(x => -x) }
  const r11 = c0[0]; const r12 = c1[0]; const r13 = c2[0]
  const r21 = c0[1]; const r22 = c1[1]; const r23 = c2[1]
  const r31 = c0[2]; const r32 = c1[2]; const r33 = c2[2]
  let a = r11 + r22 + r33 + 1
  let b: number; let c: number; let d: number
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a)
    b = 0.25 * (r32 - r23) / a
    c = 0.25 * (r13 - r31) / a
    d = 0.25 * (r21 - r12) / a
  } else {
    const xd = 1 + r11 - (r22 + r33)
    const yd = 1 + r22 - (r11 + r33)
    const zd = 1 + r33 - (r11 + r22)
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = 0.25 * (r12 + r21) / b; d = 0.25 * (r13 + r31) / b; a = 0.25 * (r32 - r23) / b
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = 0.25 * (r12 + r21) / c; d = 0.25 * (r23 + r32) / c; a = 0.25 * (r13 - r31) / c
    } else {
      d = 0.5 * Math.sqrt(zd); b = 0.25 * (r13 + r31) / d; c = 0.25 * (r23 + r32) / d; a = 0.25 * (r21 - r12) / d
    }
    if (a < 0) { b = -b; c = -c; d = -d }
  }
  return { quatern: [b, c, d], qoffset: [m[3], m[7], m[11]], qfac }
}

/**
 * Affine of resolution level k: level sample n lies on original sample 2^k n,
 * so the first two columns (x, y) scale by 2^k and the translation stays.
 */
export function scaleAffineForLevel (affine: number[], level: number): number[] {
  const f = 2 ** level
  return affine.map((v, i) => (i < 12 && (i % 4 === 0 || i % 4 === 1)) ? v * f : v)
}

/** Diagonal affine from voxel sizes (NIfTI "method 1", no offset). */
export function diagonalAffine (spacing: number[]): number[] {
  return [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0, 0, 0, 0, 1]
}
