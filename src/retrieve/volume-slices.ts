import type { CID } from 'multiformats/cid'
import { checkVolumeSlice, volumeSlices, type VolumeRoot } from '../chunker/index.js'
import { FormatError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import type { RasterImage } from '../types.js'
import { decodeImageLevel, type GetOptions } from './image-level.js'
import { readRoot } from './read-root.js'

/** One slice of a volume at the chosen level. */
export interface VolumeSlice {
  z: number
  /** Decoded pixels in the source's sample type. */
  image: RasterImage
  /** The slice's level codestream (prefix + EOC). */
  codestream: Uint8Array
}

export interface VolumeSliceOptions extends GetOptions {
  /**
   * Slices fetched and decoded at once (default 16). It also bounds what is held: at most
   * this many slices are being decoded or waiting for their turn, the one the consumer holds included.
   */
  concurrency?: number
}

/**
 * The slices of a volume at `level`, in z order, fetched and decoded in parallel (the codec
 * pool decodes several at once) with a reorder window: slice z + concurrency is started
 * only once the consumer has taken slice z, so a slow consumer (a file being written) holds
 * the decode back and the volume is never held in memory. Stopping early (break, an error)
 * starts nothing more; the at most `concurrency` slices under way finish and are dropped
 * (options.signal aborts them).
 */
export async function * volumeLevelSlices (source: BlockSource, cid: CID, root: VolumeRoot, level: number, options: VolumeSliceOptions = {}): AsyncGenerator<VolumeSlice> {
  const name = options.name ?? cid.toString()
  // slice CIDs are taken from the shards as decodes start: at most `window` of them are held
  const cids = volumeSlices(root, async c => source.get(c, options))[Symbol.asyncIterator]()
  const window = Math.max(1, Math.floor(options.concurrency ?? 16))
  const decodeSlice = async (z: number): Promise<VolumeSlice> => {
    const next = await cids.next()
    if (next.done === true) throw new FormatError(`${name}: its slice list ends before slice ${z} of ${root.sliceCount}`)
    const sliceCid = next.value
    const sliceRoot = await readRoot(source, sliceCid, options)
    if (sliceRoot.kind !== 'image') throw new FormatError(`${name}: slice ${z} (${sliceCid}) is a ${sliceRoot.kind}, not an image`)
    checkVolumeSlice(root, sliceRoot.root, z, name)
    const got = await decodeImageLevel(source, sliceCid, sliceRoot.root, level, { ...options, name: `${name} slice ${z}` })
    return { z, image: got.image, codestream: got.codestream }
  }
  const pending: Array<Promise<VolumeSlice>> = []
  let next = 0
  const start = (): void => {
    const p = decodeSlice(next++)
    p.catch(() => {}) // seen when its turn comes; until then not an unhandled rejection
    pending.push(p)
  }
  const count = root.sliceCount
  try {
    while (next < Math.min(window, count)) start()
    for (let z = 0; z < count; z++) {
      const slice = await (pending.shift() as Promise<VolumeSlice>)
      yield slice
      // the consumer has taken slice z and asks for the next: one more may start
      if (next < count) start()
    }
  } finally {
    await cids.return?.(undefined)
  }
}
