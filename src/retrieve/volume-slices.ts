import { planSlice, volumeSliceRoots, type VolumePlan } from '../level/plan.js'
import type { BlockSource } from '../repo/index.js'
import type { RasterImage } from '../types.js'
import { decodeImageLevel, type DecodeOptions } from './image-level.js'

/** One slice of a volume at the chosen level. */
export interface VolumeSlice {
  z: number
  /** Decoded pixels in the source's sample type. */
  image: RasterImage
  /** The slice's level codestream (prefix + EOC). */
  codestream: Uint8Array
}

export interface VolumeSliceOptions extends DecodeOptions {
  /**
   * Slices fetched and decoded at once (default 16). It also bounds what is held: at most
   * this many slices are being decoded or waiting for their turn, the one the consumer holds included.
   */
  concurrency?: number
}

/**
 * The slices of a volume at its planned level, in z order, fetched and decoded in parallel (the
 * codec pool decodes several at once) with a reorder window: slice z + concurrency is started
 * only once the consumer has taken slice z, so a slow consumer (a file being written) holds
 * the decode back and the volume is never held in memory. Slice roots are read from the shards
 * as the window moves, never collected. Stopping early (break, an error) starts nothing more;
 * the at most `concurrency` slices under way finish and are dropped (options.signal aborts them).
 */
export async function * volumeLevelSlices (source: BlockSource, volume: VolumePlan, options: VolumeSliceOptions = {}): AsyncGenerator<VolumeSlice> {
  const roots = volumeSliceRoots(source, volume, options)[Symbol.asyncIterator]()
  const window = Math.max(1, Math.floor(options.concurrency ?? 16))
  const decodeSlice = async (z: number, cid: Parameters<typeof planSlice>[3]): Promise<VolumeSlice> => {
    const got = await decodeImageLevel(source, await planSlice(source, volume, z, cid, options), options)
    return { z, image: got.image, codestream: got.codestream }
  }
  const pending: Array<Promise<VolumeSlice>> = []
  let next = 0
  let done = false
  const start = async (): Promise<void> => {
    const r = await roots.next()
    if (r.done === true) { done = true; return }
    const p = decodeSlice(next++, r.value)
    p.catch(() => {}) // seen when its turn comes; until then not an unhandled rejection
    pending.push(p)
  }
  try {
    while (!done && pending.length < window) await start()
    while (pending.length > 0) {
      const slice = await (pending.shift() as Promise<VolumeSlice>)
      yield slice
      // the consumer has taken slice z and asks for the next: one more may start
      if (!done) await start()
    }
  } finally {
    await roots.return?.(undefined)
  }
}
