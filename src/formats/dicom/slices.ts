/**
 * Slice stacks to a regular grid, as the reference converters decide it.
 *
 * dcm2niix orders slices along the normal, takes the slice distance from the
 * first two slices and accepts every adjacent gap within 0.2 mm of it
 * (kSliceTolerance in nii_dicom_batch.cpp); ITK's ImageSeriesReader also takes
 * the spacing from the first two slices and only warns beyond 1e-4 of it. Both
 * accept the position jitter scanners write (a few hundredths of a mm). The
 * absolute 0.2 mm alone would let a missing slice of a 0.2 mm-spaced stack
 * through, so a gap must also stay within a quarter of the first one: a missing
 * slice (a gap twice the spacing) is always caught and reported, never
 * interpolated. See docs/DESIGN.md ("DICOM volumes").
 */
import { UnsupportedInputError, InvalidInputError } from '../../errors.js'

/** dcm2niix's kSliceTolerance (mm). */
export const SLICE_TOLERANCE_MM = 0.2
/** Largest gap deviation relative to the first gap (a missing slice deviates by 1.0). */
export const SLICE_TOLERANCE_REL = 0.25

/** Order of the slices and the slice step of the grid (LPS, mm). */
export interface SliceGrid {
  /** Indices of the input positions, first slice first. */
  order: number[]
  /** LPS vector from one slice to the next. */
  step: [number, number, number]
}

/**
 * Sorts positions along the normal of `orientation` (DICOM row and column
 * cosines) and checks that they form a regular grid; `label` names the input in errors.
 * The step is the normal times the distance of the first two slices (as dcm2niix's
 * affine); a stack whose slices are sheared off the normal (gantry tilt) keeps the
 * mean step from first to last slice, so every slice stays where it was acquired.
 */
export function sliceGrid (label: string, positions: number[][], orientation: number[]): SliceGrid {
  const o = orientation
  const normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
  const along = (p: number[]): number => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2]
  const order = positions.map((_, i) => i).sort((a, b) => along(positions[a]) - along(positions[b]))
  const n = order.length
  if (n < 2) return { order, step: [normal[0], normal[1], normal[2]] }
  const at = (k: number): number[] => positions[order[k]]
  const gaps = order.slice(1).map((_, k) => along(at(k + 1)) - along(at(k)))
  const same = gaps.findIndex(g => g <= 1e-4)
  if (same >= 0) throw new InvalidInputError(`${label}: two slices share the position ${fmt(at(same))} (a repeated slice, or several volumes that need another grouping)`)
  const first = dist(at(0), at(1))
  const limit = Math.min(SLICE_TOLERANCE_MM, SLICE_TOLERANCE_REL * gaps[0])
  const bad = gaps.findIndex(g => Math.abs(g - gaps[0]) > limit)
  if (bad >= 0) {
    const g = gaps[bad]
    const what = g > 1.5 * gaps[0] ? `a gap of ${round(g)} mm where the slices are ${round(gaps[0])} mm apart (about ${Math.round(g / gaps[0]) - 1} missing slice${Math.round(g / gaps[0]) - 1 === 1 ? '' : 's'})` : `irregular slice spacing (${round(Math.min(...gaps))}..${round(Math.max(...gaps))} mm)`
    throw new UnsupportedInputError(`${label}: ${what} between ${fmt(at(bad))} and ${fmt(at(bad + 1))}: cannot be one regular volume (reference converters accept gaps within ${SLICE_TOLERANCE_MM} mm of the first)`)
  }
  const total = [0, 1, 2].map(i => (at(n - 1)[i] - at(0)[i]) / (n - 1))
  const off = Math.hypot(...[0, 1, 2].map(i => total[i] - normal[i] * along(total)))
  const step = off * (n - 1) > SLICE_TOLERANCE_MM
    ? total
    : normal.map(v => v * first)
  return { order, step: [step[0], step[1], step[2]] }
}

function dist (a: number[], b: number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}

function fmt (p: number[]): string {
  return `(${p.map(round).join(', ')})`
}
