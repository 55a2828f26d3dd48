import { getDefaultPool, type CodecPool } from '../codec/index.js'
import { FormatError } from '../errors.js'
import { readLevelCodestream, type LevelBytesEvent } from '../level/codestream.js'
import type { ImagePlan } from '../level/plan.js'
import type { BlockSource } from '../repo/index.js'
import type { OperationOptions, RasterImage } from '../types.js'
import { toSourceSamples } from './samples.js'

export interface DecodeOptions extends OperationOptions<LevelBytesEvent> {
  pool?: CodecPool
}

export interface ImageLevel {
  level: number
  /** Decoded pixels in the source's sample type. */
  image: RasterImage
  /** The level's codestream (prefix + EOC), a valid J2C file. */
  codestream: Uint8Array
}

/** Reads and decodes the planned level of one image. */
export async function decodeImageLevel (source: BlockSource, image: ImagePlan, options: DecodeOptions = {}): Promise<ImageLevel> {
  const { plan, root, level } = image
  const codestream = await readLevelCodestream(source, image, options)
  const pool = options.pool ?? getDefaultPool()
  const decoded = await pool.decode(codestream, { reduce: plan.reduce, signal: options.signal })
  if (decoded.width !== plan.width || decoded.height !== plan.height || decoded.components !== root.components) {
    throw new FormatError(`${image.name}: level ${level} decodes to ${decoded.width}x${decoded.height}x${decoded.components} but the root says ${plan.width}x${plan.height}x${root.components}`)
  }
  return { level, image: toSourceSamples(decoded, root), codestream }
}
