/**
 * DICOM series to volumes: files are grouped by SeriesInstanceUID (plus image
 * size and orientation), slices ordered by their position along the slice
 * normal (ImagePositionPatient . (row cosines x column cosines)), spacing from
 * PixelSpacing and the slice positions, affine in the NIfTI RAS+ convention
 * (LPS -> RAS: x and y negated). Rows are kept in DICOM order (first row = j 0):
 * dcm2niix instead flips rows, i.e. its voxel (i, j, k) is ours (i, ny-1-j, k)
 * and its affine is ours times the flip (column 1 negated, origin moved to the
 * last row). UIDs are used for grouping only and never reach the metadata.
 */
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { InputItem, RasterImage, AbortOptions } from '../../types.js'
import { readDicomBytes } from './read.js'
import { parseDicom } from './parse.js'
import { sliceGrid } from './slices.js'
import { mosaicInfo } from './mosaic.js'
import { ENCAPSULATED_TRANSFER_SYNTAXES } from './transfer-syntax.js'
import { imageToVolumeMeta } from '../image-to-volume.js'
import { readDicomFileBytes } from './file.js'
import { readAhead } from '../../util/read-ahead.js'

/** Files whose headers are read at once when a series is planned (each is read whole, then dropped). */
const HEADERS_AHEAD = 8
/** Bytes of slice files read ahead of the one being decoded. */
const SLICE_BYTES_AHEAD = 64 * 1024 * 1024

interface SliceHeader { path: string, series: string, frameOfReference: string, seriesNumber: string, key: string, position: number[], orientation: number[], frames: number, lossy: boolean, rescale: string, mosaic: boolean, enhanced: boolean, acquisition: number, instance: number, sop: string }

/** DICOM files that belong together: a volume when `volume`, else files read one by one. */
export interface SeriesGroup {
  paths: string[]
  /** Several single-frame slices with positions and orientations: read as one volume (or one per file for `timeSeries`). */
  volume: boolean
  /** Siemens mosaics, or enhanced multi-frame files, of one series, one file per time point: one volume per file, in acquisition order (named like the `#tN` volumes of a 4D NIfTI). */
  timeSeries?: boolean
  /** SeriesNumber of the group's files when present (names several series of one directory). */
  seriesNumber?: string
  /** @internal headers in input order */
  headers: SliceHeader[]
}

/** Reads DICOM files and returns one InputItem per series: a volume for several single-frame slices, else what readInput gives for the file. */
export async function readSeries (paths: string[], options?: AbortOptions): Promise<InputItem[]> {
  const { groups, failures } = await planSeries(paths, options)
  if (failures.length > 0) throw failures[0].error
  const items: InputItem[] = []
  for (const group of groups) items.push(...await readSeriesGroup(group, options))
  return items
}

/**
 * Groups DICOM files by SeriesInstanceUID reading only their headers (the pixel data is
 * not kept): a file whose header cannot be read is a failure of that file alone.
 * Groups come in the order of their first file.
 */
export async function planSeries (paths: string[], options?: AbortOptions): Promise<{ groups: SeriesGroup[], failures: Array<{ path: string, error: unknown }> }> {
  const failures: Array<{ path: string, error: unknown }> = []
  const bySeries = new Map<string, SliceHeader[]>()
  const headerOf = async (path: string): Promise<{ path: string, h?: SliceHeader, error?: unknown }> => {
    try {
      return { path, h: readHeader(path, await readDicomFileBytes(path, { signal: options?.signal })) }
    } catch (error) {
      return { path, error }
    }
  }
  for await (const { path, h, error } of readAhead(paths, headerOf, HEADERS_AHEAD)) {
    // an abort is thrown here, not counted as that file's failure
    options?.signal?.throwIfAborted()
    if (h == null) {
      failures.push({ path, error })
      continue
    }
    // files without a SeriesInstanceUID (some anonymisers empty it) are grouped by frame of
    // reference, pixel format and orientation instead
    const key = h.series !== '' ? h.series : ['', h.frameOfReference, h.key, ...h.orientation.map(v => v.toFixed(4))].join('|')
    const group = bySeries.get(key) ?? []
    group.push(h)
    bySeries.set(key, group)
  }
  const groups: SeriesGroup[] = []
  for (const headers of bySeries.values()) {
    const volume = headers.length > 1 && headers.every(h => h.frames === 1 && h.position.length === 3 && h.orientation.length === 6)
    const numbers = new Set(headers.map(h => h.seriesNumber))
    const group: SeriesGroup = { paths: headers.map(h => h.path), volume, headers }
    const enhanced = headers.length > 1 && headers.every(h => h.enhanced && h.frames > 1)
    // copies of one instance (the same image in several transfer syntaxes) are no time series
    const sops = headers.map(h => h.sop).filter(u => u !== '')
    const copies = new Set(sops).size < sops.length
    if (copies) {
      if (headers.every(h => h.mosaic)) group.volume = false
    } else if ((volume && headers.every(h => h.mosaic)) || enhanced) {
      group.volume = true
      group.timeSeries = true
      headers.sort((a, b) => (a.acquisition - b.acquisition) || (a.instance - b.instance))
      group.paths = headers.map(h => h.path)
    }
    if (numbers.size === 1 && headers[0].seriesNumber !== '') group.seriesNumber = headers[0].seriesNumber
    groups.push(group)
  }
  return { groups, failures }
}

/**
 * The items of one group: one volume for a volume group (paths in slice order are not needed:
 * they are sorted by position), one volume per file in acquisition order for a time series
 * of mosaics or enhanced multi-frame files, else one item per file.
 */
export async function readSeriesGroup (group: SeriesGroup, options?: AbortOptions): Promise<InputItem[]> {
  const items: InputItem[] = []
  for await (const item of seriesItems(group, options)) items.push(item)
  return items
}

/** The items of readSeriesGroup one at a time: a time series of mosaics is read file by file as the items are taken. */
export async function * seriesItems (group: SeriesGroup, options?: AbortOptions): AsyncGenerator<InputItem> {
  if (group.timeSeries === true) {
    yield * timeSeries(group.headers, options?.signal)
    return
  }
  if (group.volume) {
    yield await seriesVolume(group.headers, options?.signal)
    return
  }
  for (const h of group.headers) yield await readDicomBytes(h.path, await readDicomFileBytes(h.path, { signal: options?.signal }))
}

function readHeader (path: string, bytes: Uint8Array): SliceHeader {
  const { ds, ts } = parseDicom(path, bytes, 'x7fe00010')
  const nums = (tag: string): number[] => (ds.string(tag) ?? '').split('\\').filter(s => s.trim() !== '').map(Number).filter(Number.isFinite)
  const key = [ds.uint16('x00280010'), ds.uint16('x00280011'), ds.uint16('x00280101'), ds.uint16('x00280103'), ds.string('x00280004')].join('/')
  return {
    path,
    series: ds.string('x0020000e') ?? '',
    seriesNumber: (ds.string('x00200011') ?? '').trim(),
    frameOfReference: ds.string('x00200052') ?? '',
    key,
    position: nums('x00200032'),
    orientation: nums('x00200037'),
    frames: Number(ds.string('x00280008') ?? '1'),
    lossy: ENCAPSULATED_TRANSFER_SYNTAXES[ts]?.lossy === true || ds.string('x00282110')?.trim() === '01',
    rescale: `${ds.string('x00281053') ?? ''}/${ds.string('x00281052') ?? ''}`,
    mosaic: mosaicInfo(ds) != null,
    enhanced: ds.elements.x52009230 != null,
    sop: (ds.string('x00080018') ?? '').trim(),
    acquisition: Number(ds.string('x00200012') ?? 0) || 0,
    instance: Number(ds.string('x00200013') ?? 0) || 0
  }
}

/**
 * A series of mosaics or enhanced multi-frame files: every file one volume of the same grid
 * (dims and affine), in acquisition order, read when taken.
 */
async function * timeSeries (group: SliceHeader[], signal?: AbortSignal): AsyncGenerator<InputItem> {
  const label = `${group[0].path} (series of ${group.length} ${group[0].mosaic ? 'mosaics' : 'multi-frame files'})`
  if (group.some(h => h.key !== group[0].key)) throw new UnsupportedInputError(`${label}: the files of this series differ in size or pixel format`)
  let grid: { dims: number[], affine: number[] } | undefined
  for (const [t, h] of group.entries()) {
    const item = await readDicomBytes(h.path, await readDicomFileBytes(h.path, { signal }))
    if (item.kind !== 'volume') throw new InvalidInputError(`${h.path}: not a volume like the other files of its series`)
    grid ??= item.meta
    if (item.meta.dims.some((d, i) => d !== grid?.dims[i]) || item.meta.affine.some((v, i) => Math.abs(v - (grid?.affine[i] ?? 0)) > 1e-3)) {
      throw new UnsupportedInputError(`${label}: ${h.path} is placed differently from the first file: the files are not time points of one volume`)
    }
    item.meta.frame = { index: t, count: group.length }
    yield item
  }
}

async function seriesVolume (group: SliceHeader[], signal?: AbortSignal): Promise<InputItem> {
  const label = `${group[0].path} (series of ${group.length} files)`
  const o = group[0].orientation
  if (group.some(h => h.key !== group[0].key)) throw new UnsupportedInputError(`${label}: the slices of this series differ in size or pixel format`)
  if (group.some(h => h.orientation.some((v, i) => Math.abs(v - o[i]) > 1e-4))) throw new UnsupportedInputError(`${label}: the slices of this series differ in orientation`)
  if (group.some(h => h.rescale !== group[0].rescale)) throw new UnsupportedInputError(`${label}: the slices of this series have different rescale slope/intercept`)
  const grid = sliceGrid(label, group.map(h => h.position), o)
  const sorted = grid.order.map(i => group[i])
  const n = sorted.length
  const firstItem = await readDicomBytes(sorted[0].path, await readDicomFileBytes(sorted[0].path, { signal }))
  if (firstItem.kind !== 'image') throw new UnsupportedInputError(`${label}: multi-frame files cannot be part of a series volume`)
  const meta = imageToVolumeMeta(firstItem.image, firstItem.meta)
  const step = grid.step
  // LPS -> RAS for the slice step, as imageToVolumeMeta does for the in-plane axes.
  meta.affine[2] = -step[0]
  meta.affine[6] = -step[1]
  meta.affine[10] = step[2]
  meta.dims = [firstItem.image.width, firstItem.image.height, n]
  meta.spacing = [meta.spacing[0], meta.spacing[1], Math.hypot(step[0], step[1], step[2])]
  meta.sourceFormat = 'dicom'
  if (firstItem.meta.lossySource === true || sorted.some(h => h.lossy)) meta.lossySource = true
  const first = firstItem.image
  return {
    kind: 'volume',
    meta,
    sliceCount: n,
    slices: async function * (): AsyncGenerator<RasterImage> {
      yield first
      // the next files are read while this one is decoded (the slices are the first's size: a bounded number of bytes ahead)
      const depth = Math.min(8, Math.max(1, Math.floor(SLICE_BYTES_AHEAD / Math.max(1, first.data.byteLength))))
      const rest = sorted.slice(1)
      let k = 0
      for await (const bytes of readAhead(rest, async h => await readDicomFileBytes(h.path, { signal }), depth)) {
        const h = rest[k++]
        const item = await readDicomBytes(h.path, bytes)
        if (item.kind !== 'image' || item.image.width !== first.width || item.image.height !== first.height || item.image.data.constructor !== first.data.constructor) {
          throw new InvalidInputError(`${h.path}: slice does not match the first slice of its series`)
        }
        yield item.image
      }
    }
  }
}
