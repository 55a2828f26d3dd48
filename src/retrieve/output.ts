import { join } from 'node:path'
import type { ImageRoot } from '../chunker/index.js'
import { imageToVolumeMeta, writeNifti, writePng } from '../formats/index.js'
import { UsageError } from '../errors.js'
import type { RasterImage } from '../types.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import type { ImageLevel, VolumeResult } from './get.js'

export type OutputFormat = 'png' | 'nii' | 'j2c'
export const OUTPUT_FORMATS: OutputFormat[] = ['png', 'nii', 'j2c']

/** The format used when the user gives none: PNG for unsigned 2D images, NIfTI for volumes and signed images. */
export function defaultFormat (kind: 'image' | 'volume', image?: { signed: boolean, components: number }): OutputFormat {
  if (kind === 'volume') return 'nii'
  return image?.signed === true ? 'nii' : 'png'
}

/** File extension for a format (`.nii` stays uncompressed unless the user names a .nii.gz file). */
export function extensionFor (format: OutputFormat): string {
  return format === 'nii' ? '.nii' : `.${format}`
}

/** Writes one 2D image level. Returns the paths written. */
export async function writeImageOutput (path: string, format: OutputFormat, root: ImageRoot, got: ImageLevel): Promise<string[]> {
  const reduce = root.levels[root.levels.length - 1].level - got.level
  switch (format) {
    case 'png':
      if (got.image.signed) throw new UsageError(`${path}: PNG cannot hold signed samples; use --format nii or j2c`)
      await writePng(path, got.image)
      return [path]
    case 'nii': {
      const full: RasterImage = { ...got.image, width: root.width, height: root.height }
      await writeNifti(path, imageToVolumeMeta(full, root.meta), [got.image], { level: reduce })
      return [path]
    }
    case 'j2c':
      await writeFileAtomic(path, got.codestream)
      return [path]
  }
}

/** Writes a volume level: one NIfTI file, or a directory of per-slice J2C codestreams. */
export async function writeVolumeOutput (path: string, format: OutputFormat, volume: VolumeResult): Promise<string[]> {
  const reduce = volume.root.levels[volume.root.levels.length - 1].level - volume.level
  switch (format) {
    case 'nii':
      await writeNifti(path, volume.meta, volume.slices, { level: reduce })
      return [path]
    case 'j2c': {
      const paths: string[] = []
      const digits = Math.max(4, String(volume.codestreams.length).length)
      for (let z = 0; z < volume.codestreams.length; z++) {
        const file = join(path, `slice-${String(z).padStart(digits, '0')}.j2c`)
        await writeFileAtomic(file, volume.codestreams[z])
        paths.push(file)
      }
      return paths
    }
    case 'png':
      throw new UsageError(`${path}: a volume cannot be written as one PNG; use --format nii or j2c`)
  }
}
