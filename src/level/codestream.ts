import { MissingBlockError, MistError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { checkLevelBounds, checkLevelHeader } from './level-header.js'
import type { ImagePlan } from './plan.js'

const EOC = new Uint8Array([0xff, 0xd9])

/** One leaf of a level read (its size: progress in bytes). */
export type LevelBytesEvent = ProgressEvent<'retrieve:bytes', { bytes: number }>

/**
 * Reads exactly the leaves that an image's planned level needs, verified, and returns the
 * codestream for that level: the prefix up to the level's end plus EOC. A missing block is an
 * error naming the image and level, never a silently filled image.
 */
export async function readLevelCodestream (source: BlockSource, image: ImagePlan, options: OperationOptions<LevelBytesEvent> = {}): Promise<Uint8Array> {
  const { root, level, plan, name } = image
  checkLevelBounds(root, level, name)
  const parts = await Promise.all(plan.leaves.map(async leaf => {
    let bytes: Uint8Array
    try {
      bytes = await source.get(leaf.cid, { signal: options.signal, sizeHint: leaf.size })
    } catch (err: any) {
      if (err instanceof MistError || err?.name === 'AbortError') {
        if (err instanceof MissingBlockError) {
          throw new MissingBlockError(`${name}: level ${level} (${plan.width}x${plan.height}) needs block ${leaf.cid}, which is not available: ${err.message}`, { cause: err })
        }
        throw err
      }
      throw new MissingBlockError(`${name}: level ${level} needs block ${leaf.cid}: ${err?.message ?? err}`, { cause: err })
    }
    if (bytes.byteLength !== leaf.size) {
      throw new MistError(`${name}: block ${leaf.cid} holds ${bytes.byteLength} bytes but the root says ${leaf.size}`)
    }
    options.onProgress?.({ type: 'retrieve:bytes', detail: { bytes: bytes.byteLength } })
    return bytes
  }))
  const out = new Uint8Array(plan.end + EOC.byteLength)
  let offset = 0
  for (const part of parts) {
    const take = Math.min(part.byteLength, plan.end - offset)
    if (take <= 0) break
    out.set(part.subarray(0, take), offset)
    offset += take
  }
  if (offset !== plan.end) throw new MistError(`${name}: level ${level} needs ${plan.end} bytes but its blocks hold ${offset}`)
  out.set(EOC, plan.end)
  checkLevelHeader(out, root, name)
  return out
}
