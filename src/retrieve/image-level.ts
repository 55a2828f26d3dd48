import type { CID } from 'multiformats/cid'
import { levelPlan, type ImageRoot } from '../chunker/index.js'
import { getDefaultPool, type CodecPool } from '../codec/index.js'
import { FormatError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { RasterImage } from '../types.js'
import { fetchLevelCodestream } from './fetch-level.js'
import { toSourceSamples } from './samples.js'
import type { LevelSelection } from './select.js'

export interface GetOptions extends LevelSelection {
  signal?: AbortSignal
  pool?: CodecPool
  /** Called with each block's size as it arrives (progress). */
  onBytes?: (bytes: number) => void
  /** Names the image in errors. */
  name?: string
}

export interface ImageLevel {
  level: number
  /** Decoded pixels in the source's sample type. */
  image: RasterImage
  /** The level's codestream (prefix + EOC), a valid J2C file. */
  codestream: Uint8Array
}

/** Fetches and decodes one level of an image root. */
export async function decodeImageLevel (source: BlockSource, cid: CID, root: ImageRoot, level: number, options: GetOptions = {}): Promise<ImageLevel> {
  const plan = levelPlan(root, level)
  const codestream = await fetchLevelCodestream(source, cid, root, level, options)
  const pool = options.pool ?? getDefaultPool()
  const decoded = await pool.decode(codestream, { reduce: plan.reduce, signal: options.signal })
  if (decoded.width !== plan.width || decoded.height !== plan.height || decoded.components !== root.components) {
    throw new FormatError(`${options.name ?? cid}: level ${level} decodes to ${decoded.width}x${decoded.height}x${decoded.components} but the root says ${plan.width}x${plan.height}x${root.components}`)
  }
  return { level, image: toSourceSamples(decoded, root), codestream }
}
