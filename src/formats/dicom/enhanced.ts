/**
 * Enhanced multi-frame DICOM (one file, the geometry of each frame in the
 * Per-frame and Shared Functional Groups): frames are grouped into volumes by
 * their Dimension Index Values without the in-stack position (so several
 * stacks, temporal positions, echoes or b-values give several volumes), each
 * volume's frames are ordered along the slice normal, and the affine and the
 * rescale come from Plane Position / Plane Orientation / Pixel Measures /
 * Pixel Value Transformation, as dcm2niix reads them.
 */
import type { DataSet } from 'dicom-parser'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { ImageMeta, InputItem, RasterImage } from '../../types.js'
import { sliceGrid } from './slices.js'
import { imageToVolumeMeta } from '../image-to-volume.js'

/** Geometry and grouping of one frame. */
interface FrameInfo {
  index: number
  position: number[]
  orientation: number[]
  spacing?: [number, number]
  rescale?: { slope: number, intercept: number }
  key: number[]
}

const PER_FRAME = 'x52009230'
const SHARED = 'x52009229'
const IN_STACK_POSITION = 0x00209057
const IMAGE_POSITION = 0x00200032

/** Whether the data set carries per-frame functional groups with a plane position for every frame. */
export function isEnhancedMultiFrame (ds: DataSet, frames: number): boolean {
  const items = ds.elements[PER_FRAME]?.items
  return items != null && items.length === frames && frames > 1 && sequenceValue(ds, 0, 'x00209113', 'x00200032') != null
}

/**
 * The volumes of an enhanced multi-frame image, in the order of their dimension
 * index values. `frame(i)` decodes frame i (0-based, file order); `first` is frame 0.
 * Undefined when every frame has the same plane position (a cine loop or a single
 * plane over time: not a stack), which is then read as frames in file order.
 */
export function enhancedVolumes (label: string, ds: DataSet, meta: ImageMeta, frames: number, first: RasterImage, frame: (i: number) => Promise<RasterImage>): InputItem[] | undefined {
  const infos: FrameInfo[] = []
  const drop = droppedDimensions(ds)
  for (let i = 0; i < frames; i++) {
    const position = numbers(sequenceValue(ds, i, 'x00209113', 'x00200032'))
    const orientation = numbers(sequenceValue(ds, i, 'x00209116', 'x00200037'))
    if (position?.length !== 3 || orientation?.length !== 6) throw new InvalidInputError(`${label}: frame ${i + 1} has no plane position or orientation in its functional groups`)
    const ps = numbers(sequenceValue(ds, i, 'x00289110', 'x00280030'))
    const slope = numbers(sequenceValue(ds, i, 'x00289145', 'x00281053'))?.[0]
    const intercept = numbers(sequenceValue(ds, i, 'x00289145', 'x00281052'))?.[0]
    const info: FrameInfo = { index: i, position, orientation, key: frameKey(ds, i, drop) }
    if (ps != null && ps.length >= 2) info.spacing = [ps[1], ps[0]]
    if (slope != null || intercept != null) info.rescale = { slope: slope ?? 1, intercept: intercept ?? 0 }
    infos.push(info)
  }
  const p0 = infos[0].position
  if (infos.every(f => f.position.every((v, i) => Math.abs(v - p0[i]) < 1e-4))) return undefined
  const groups = new Map<string, FrameInfo[]>()
  for (const f of infos) {
    const k = f.key.join(',')
    const group = groups.get(k)
    if (group == null) groups.set(k, [f])
    else group.push(f)
  }
  const keys = [...groups.keys()].sort((a, b) => compareKeys(groups.get(a)?.[0].key ?? [], groups.get(b)?.[0].key ?? []))
  return keys.map((k, v) => {
    const group = groups.get(k) as FrameInfo[]
    const what = keys.length > 1 ? `${label} (volume ${v + 1} of ${keys.length})` : label
    const item = groupVolume(what, meta, group, first, frame)
    if (keys.length > 1 && item.kind === 'volume') item.meta.frame = { index: v, count: keys.length }
    return item
  })
}

function groupVolume (label: string, meta: ImageMeta, group: FrameInfo[], first: RasterImage, frame: (i: number) => Promise<RasterImage>): InputItem {
  const f0 = group[0]
  const o = f0.orientation
  if (group.some(f => f.orientation.some((v, i) => Math.abs(v - o[i]) > 1e-4))) throw new UnsupportedInputError(`${label}: the frames of one stack differ in orientation`)
  if (group.some(f => f.spacing?.[0] !== f0.spacing?.[0] || f.spacing?.[1] !== f0.spacing?.[1])) throw new UnsupportedInputError(`${label}: the frames of one stack differ in pixel spacing`)
  if (group.some(f => f.rescale?.slope !== f0.rescale?.slope || f.rescale?.intercept !== f0.rescale?.intercept)) {
    throw new UnsupportedInputError(`${label}: the frames of one stack have different rescale slope/intercept (per-slice scaling cannot be one volume of stored values)`)
  }
  const grid = group.length > 1 ? sliceGrid(label, group.map(f => f.position), o) : { order: [0], step: [0, 0, 0] as [number, number, number] }
  const sorted = grid.order.map(i => group[i])
  const s0 = sorted[0]
  const frameMeta: ImageMeta = { ...meta, orientation: o, position: s0.position }
  if (s0.spacing != null) frameMeta.spacing = s0.spacing
  // a per-frame Pixel Value Transformation wins over a top-level Rescale Slope/Intercept
  if (s0.rescale != null) frameMeta.rescale = s0.rescale
  const volume = imageToVolumeMeta(first, frameMeta)
  const step = grid.step
  if (sorted.length > 1) {
    // LPS -> RAS, as for the in-plane axes
    volume.affine[2] = -step[0]
    volume.affine[6] = -step[1]
    volume.affine[10] = step[2]
  }
  volume.dims = [first.width, first.height, sorted.length]
  volume.spacing = [volume.spacing[0], volume.spacing[1], sorted.length > 1 ? Math.hypot(...step) : 1]
  volume.sourceFormat = 'dicom'
  if (meta.lossySource === true) volume.lossySource = true
  return {
    kind: 'volume',
    meta: volume,
    sliceCount: sorted.length,
    slices: async function * () {
      for (const f of sorted) yield f.index === 0 ? first : await frame(f.index)
    }
  }
}

/** Positions in DimensionIndexValues that do not separate volumes: the in-stack position and the image position. */
function droppedDimensions (ds: DataSet): Set<number> {
  const drop = new Set<number>()
  const items = ds.elements.x00209222?.items ?? []
  items.forEach((item, i) => {
    const pointer = item.dataSet?.elements.x00209165
    if (pointer == null || item.dataSet == null) return
    const tag = (item.dataSet.uint16('x00209165', 0) ?? 0) * 0x10000 + (item.dataSet.uint16('x00209165', 1) ?? 0)
    if (tag === IN_STACK_POSITION || tag === IMAGE_POSITION) drop.add(i)
  })
  return drop
}

/**
 * What separates the volumes of a file: the dimension index values without the
 * dropped ones; without a dimension index, stack ID, temporal position, echo time and b-value.
 */
function frameKey (ds: DataSet, i: number, drop: Set<number>): number[] {
  const content = ds.elements[PER_FRAME]?.items?.[i]?.dataSet?.elements.x00209111?.items?.[0]?.dataSet
  const el = content?.elements.x00209157
  if (content != null && el != null && drop.size > 0) {
    const n = Math.floor(el.length / 4)
    const out: number[] = []
    for (let d = 0; d < n; d++) if (!drop.has(d)) out.push(content.uint32('x00209157', d) ?? 0)
    return out
  }
  const stack = Number(sequenceValue(ds, i, 'x00209111', 'x00209056') ?? 0)
  const temporal = content?.uint32('x00209128') ?? 0
  const echo = Number(sequenceValue(ds, i, 'x00189114', 'x00189082', 'double') ?? 0)
  const b = Number(sequenceValue(ds, i, 'x00189117', 'x00189087', 'double') ?? 0)
  return [stack, temporal, echo, b].map(v => Number.isFinite(v) ? v : 0)
}

/** An attribute inside a functional group sequence of frame i: per-frame first, then shared. */
function sequenceValue (ds: DataSet, i: number, sequence: string, tag: string, as: 'string' | 'double' = 'string'): string | number | undefined {
  const groups = [ds.elements[PER_FRAME]?.items?.[i]?.dataSet, ds.elements[SHARED]?.items?.[0]?.dataSet]
  for (const g of groups) {
    const item = g?.elements[sequence]?.items?.[0]?.dataSet
    if (item?.elements[tag] == null) continue
    return as === 'double' ? item.double(tag) : item.string(tag)
  }
  return undefined
}

function numbers (value: string | number | undefined): number[] | undefined {
  if (value == null || value === '') return undefined
  const out = String(value).split('\\').map(s => Number(s.trim()))
  return out.every(Number.isFinite) ? out : undefined
}

function compareKeys (a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
