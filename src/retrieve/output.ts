import { join } from 'node:path'
import type { ImageRoot, VolumeRoot } from '../chunker/index.js'
import { getDefaultPool, type CodecPool } from '../codec/index.js'
import { derivedUid, encodeDicomHTJ2K, encodePngOnPool, encodeNpy, freshUid, imageToVolumeMeta, outputValues, writeNifti, writeNiftiStream, writeNpyStream } from '../formats/index.js'
import { UsageError } from '../errors.js'
import type { ImageMeta, RasterImage, VolumeMeta, AbortOptions } from '../types.js'
import { writeFileAtomic, type AtomicWriteOptions } from '../util/atomic-write.js'
import type { ImageLevel } from './image-level.js'
import type { VolumeSlice } from './volume-slices.js'

export type OutputFormat = 'png' | 'nii' | 'j2c' | 'dcm' | 'npy'
export const OUTPUT_FORMATS: OutputFormat[] = ['png', 'nii', 'j2c', 'dcm', 'npy']

/** How outputs are written. */
export interface OutputOptions extends AbortOptions {
  /** nii and npy: write real-world values (rescale slope/intercept applied) instead of stored values. */
  applyRescale?: boolean
  /** dcm at a reduced level re-encodes the level's pixels (lossless) with this pool. */
  pool?: CodecPool
  /** Where outputs may go and whether existing files are replaced (util/atomic-write.ts). */
  write?: AtomicWriteOptions
  /** dcm: derive the UIDs from this (e.g. the root CID and level) instead of fresh random ones, so a rerun writes the same files. */
  uidSeed?: string
}

/** The format used when the user gives none: PNG for unsigned 2D images, NIfTI for volumes and signed images (and for every image with applyRescale, which PNG cannot hold). */
export function defaultFormat (kind: 'image' | 'volume', image?: { signed: boolean, components: number }, applyRescale = false): OutputFormat {
  if (kind === 'volume') return 'nii'
  return image?.signed === true || applyRescale ? 'nii' : 'png'
}

/** File extension for a format (`.nii` stays uncompressed unless the user names a .nii.gz file). */
export function extensionFor (format: OutputFormat): string {
  return format === 'nii' ? '.nii' : `.${format}`
}

/** Whether a volume in this format is written as a directory of per-slice files. */
export function volumeIsDirectory (format: OutputFormat): boolean {
  return format === 'j2c' || format === 'dcm'
}

/** dcm2niix stores DICOM rows bottom-up; mist-p2p's NIfTI output of DICOM sources does the same (so shapes and affines match dcm2niix's). */
function flipRowsFor (sourceFormat: string): boolean {
  return sourceFormat === 'dicom'
}

function checkRescaleFormat (path: string, format: OutputFormat, options?: OutputOptions): void {
  if (options?.applyRescale === true && format !== 'nii' && format !== 'npy') {
    throw new UsageError(`${path}: --apply-rescale writes real-world values, which only nii and npy can hold; drop it or use --format nii or npy (dcm keeps RescaleSlope/RescaleIntercept)`)
  }
}

/** Slope and intercept from a DICOM stored value to the real-world value: the value mapping then the rescale. */
function dicomRescale (meta: { rescale?: { slope: number, intercept: number }, valueMapping?: { slope: number, intercept: number } }): { slope: number, intercept: number } | undefined {
  const r = meta.rescale
  const m = meta.valueMapping
  if (m == null) return r
  if (r == null) return { slope: m.slope, intercept: m.intercept }
  return { slope: r.slope * m.slope, intercept: r.slope * m.intercept + r.intercept }
}

/** The level codestream as a standalone codestream of the level's size: the published one at the full level, a lossless re-encode of the level's pixels otherwise. */
async function levelCodestream (reduce: number, image: RasterImage, published: Uint8Array, options?: OutputOptions): Promise<Uint8Array> {
  if (reduce === 0) return published
  return await (options?.pool ?? getDefaultPool()).encode(image, { signal: options?.signal })
}

function ownsWholeBuffer (data: RasterImage['data']): boolean {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !Buffer.isBuffer(data)
}

/** Writes one 2D image level. Returns the paths written. */
export async function writeImageOutput (path: string, format: OutputFormat, root: ImageRoot, got: ImageLevel, options?: OutputOptions): Promise<string[]> {
  const reduce = root.levels[root.levels.length - 1].level - got.level
  checkRescaleFormat(path, format, options)
  const volumeMeta = (): VolumeMeta => {
    const full: RasterImage = { ...got.image, width: root.width, height: root.height }
    const vm = imageToVolumeMeta(full, root.meta)
    if (root.meta.valueMapping != null) vm.valueMapping = root.meta.valueMapping
    return vm
  }
  switch (format) {
    case 'png':
      if (got.image.signed) throw new UsageError(`${path}: PNG cannot hold signed samples; use --format nii, npy, dcm or j2c`)
      // encoded on a codec worker (the main thread keeps fetching and writing); the decoded
      // level is not used after this, so its buffer is handed over when it owns one whole
      await writeFileAtomic(path, await encodePngOnPool(options?.pool ?? getDefaultPool(), got.image, { signal: options?.signal, transfer: ownsWholeBuffer(got.image.data) }), options?.write)
      return [path]
    case 'nii':
      await writeNifti(path, volumeMeta(), [got.image], { level: reduce, applyRescale: options?.applyRescale, flipRows: flipRowsFor(root.meta.sourceFormat), write: options?.write })
      return [path]
    case 'npy': {
      const values = outputValues(volumeMeta(), [got.image], options?.applyRescale === true)
      await writeFileAtomic(path, encodeNpy({ ...got.image, data: values.slices[0] }), options?.write)
      return [path]
    }
    case 'j2c':
      await writeFileAtomic(path, got.codestream, options?.write)
      return [path]
    case 'dcm': {
      const m: ImageMeta = root.meta
      const f = 2 ** reduce
      const codestream = await levelCodestream(reduce, got.image, got.codestream, options)
      const uid = (what: string): string | undefined => options?.uidSeed != null ? derivedUid(`${options.uidSeed}/${what}`) : undefined
      await writeFileAtomic(path, encodeDicomHTJ2K({
        codestream,
        modality: m.modality,
        photometric: m.photometric,
        spacing: m.spacing != null ? [m.spacing[0] * f, m.spacing[1] * f] : undefined,
        orientation: m.orientation,
        position: m.position,
        rescale: dicomRescale(m),
        lossySource: m.lossySource === true || (m.valueMapping?.maxAbsError ?? 0) > 0,
        studyUid: uid('study'),
        seriesUid: uid('series'),
        sopInstanceUid: uid('instance'),
        frameOfReferenceUid: uid('frame')
      }), options?.write)
      return [path]
    }
  }
}

/** A volume level whose slices arrive one by one, in z order. */
export interface VolumeLevelStream {
  root: VolumeRoot
  level: number
  /** Source volume metadata (dims and affine of the full level; writers scale them to `level`). */
  meta: VolumeMeta
  slices: AsyncIterable<VolumeSlice>
}

async function * images (slices: AsyncIterable<VolumeSlice>): AsyncGenerator<RasterImage> {
  for await (const s of slices) yield s.image
}

/**
 * Writes a volume level: one NIfTI or .npy file, or a directory of per-slice J2C codestreams
 * or DICOM files. Each slice is written as it arrives and then dropped: the volume is never held.
 */
export async function writeVolumeOutput (path: string, format: OutputFormat, volume: VolumeLevelStream, options?: OutputOptions): Promise<string[]> {
  const reduce = volume.root.levels[volume.root.levels.length - 1].level - volume.level
  const meta = volume.meta
  checkRescaleFormat(path, format, options)
  const digits = Math.max(4, String(volume.root.sliceCount).length)
  const sliceName = (z: number, ext: string): string => join(path, `slice-${String(z).padStart(digits, '0')}${ext}`)
  switch (format) {
    case 'nii':
      await writeNiftiStream(path, meta, images(volume.slices), { level: reduce, applyRescale: options?.applyRescale, flipRows: flipRowsFor(meta.sourceFormat), signal: options?.signal, write: options?.write })
      return [path]
    case 'npy':
      await writeNpyStream(path, meta, images(volume.slices), volume.root.sliceCount, { applyRescale: options?.applyRescale, signal: options?.signal, write: options?.write })
      return [path]
    case 'j2c': {
      const paths: string[] = []
      for await (const { z, codestream } of volume.slices) {
        await writeFileAtomic(sliceName(z, '.j2c'), codestream, options?.write)
        paths.push(sliceName(z, '.j2c'))
      }
      return paths
    }
    case 'dcm': {
      const f = 2 ** reduce
      const A = meta.affine
      // RAS+ affine columns -> LPS direction cosines; the first two rows change sign.
      const lps = (v: number[]): number[] => [-v[0], -v[1], v[2]]
      const unit = (v: number[]): number[] => { const n = Math.hypot(v[0], v[1], v[2]); return n > 0 ? v.map(x => x / n) : v }
      const orientation = [...unit(lps([A[0], A[4], A[8]])), ...unit(lps([A[1], A[5], A[9]]))]
      const uid = (what: string): string => options?.uidSeed != null ? derivedUid(`${options.uidSeed}/${what}`) : freshUid()
      const studyUid = uid('study')
      const seriesUid = uid('series')
      const frameOfReferenceUid = uid('frame')
      const paths: string[] = []
      for await (const { z, image, codestream: published } of volume.slices) {
        options?.signal?.throwIfAborted()
        const position = lps([A[2] * z + A[3], A[6] * z + A[7], A[10] * z + A[11]])
        const codestream = await levelCodestream(reduce, image, published, options)
        await writeFileAtomic(sliceName(z, '.dcm'), encodeDicomHTJ2K({
          codestream,
          modality: meta.modality,
          spacing: [meta.spacing[0] * f, meta.spacing[1] * f],
          orientation,
          position,
          sliceSpacing: meta.spacing[2],
          rescale: dicomRescale(meta),
          lossySource: meta.lossySource === true || (meta.valueMapping?.maxAbsError ?? 0) > 0,
          studyUid,
          seriesUid,
          frameOfReferenceUid,
          sopInstanceUid: options?.uidSeed != null ? derivedUid(`${options.uidSeed}/instance/${z}`) : undefined,
          instanceNumber: z + 1
        }), options?.write)
        paths.push(sliceName(z, '.dcm'))
      }
      return paths
    }
    case 'png':
      throw new UsageError(`${path}: a volume cannot be written as one PNG; use --format nii, npy, dcm or j2c`)
  }
}
