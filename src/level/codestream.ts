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
  // one buffer of the level's size (bounded by decodeImageRoot against the level's pixels);
  // each leaf is copied in at its offset as it arrives and dropped, never held until the end
  const out = new Uint8Array(plan.end + EOC.byteLength)
  let copied = 0
  let at = 0
  const offsets = plan.leaves.map(leaf => { const o = at; at += leaf.size; return o })
  await Promise.all(plan.leaves.map(async (leaf, i) => {
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
    const take = Math.max(0, Math.min(bytes.byteLength, plan.end - offsets[i]))
    out.set(bytes.subarray(0, take), offsets[i])
    copied += take
  }))
  if (copied !== plan.end) throw new MistError(`${name}: level ${level} needs ${plan.end} bytes but its blocks hold ${copied}`)
  out.set(EOC, plan.end)
  checkLevelHeader(out, root, name)
  return out
}
