/**
 * Built-in example data: deterministic synthetic images to try mist-p2p
 * without real patient data.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeNifti, writePng } from '../formats/index.js'
import { radiographImage } from './radiograph.js'
import { sheppLoganVolume } from './shepp-logan.js'

export { sheppLoganVolume } from './shepp-logan.js'
export { radiographImage } from './radiograph.js'
export { mulberry32 } from './prng.js'
export { gradientImage, patternImage } from './patterns.js'

/** Writes phantom.nii.gz and radiograph.png into dir (created if needed); returns their paths. */
export async function writeExamples (dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  // 256 x 256 x 48: enough levels (64 to 256 px) to show what a low level saves
  const phantom = sheppLoganVolume({ size: 256, slices: 48 })
  const phantomPath = join(dir, 'phantom.nii.gz')
  await writeNifti(phantomPath, phantom.meta, phantom.slices)
  const radiograph = radiographImage()
  const radiographPath = join(dir, 'radiograph.png')
  await writePng(radiographPath, radiograph.image)
  return [phantomPath, radiographPath]
}
