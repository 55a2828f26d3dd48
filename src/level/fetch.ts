import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { MissingBlockError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { walkLevel, type NeededBlock } from './blocks.js'
import { checkPeersHoldLevel } from './peer-levels.js'
import type { EntrySelection } from './entries.js'
import type { LevelSelection } from './select.js'
import type { OperationOptions, ProgressEvent } from '../types.js'

export type FetchProgressEvent =
  | ProgressEvent<'fetch:planned', { bytes: number }>
  | ProgressEvent<'fetch:block', { bytes: number, fresh: boolean }>

export interface FetchBlocksOptions extends LevelSelection, EntrySelection, OperationOptions<FetchProgressEvent> {
  /** Blocks requested at once (default 128): a pull is not latency-bound. */
  concurrency?: number
  /** Also fetch the UnixFS level files (mirrors and CAR exports do, so IPFS tools can cat each level). */
  levelFiles?: boolean
  /** Do not fetch levels this release cannot decode (get decodes what it fetches; a mirror does not). */
  decodableOnly?: boolean
}

export interface FetchLevelResult {
  images: number
  /** Every block the level needs. */
  blocks: number
  bytes: number
  /** Blocks and bytes that were not in the repo before. */
  freshBlocks: number
  freshBytes: number
}

/**
 * Makes the store hold every block that a level of a root needs, fetching what is missing
 * (through a NetworkStore: from peers, verified, stored) with many requests in flight across
 * all images. A rerun after an interruption fetches only what is still missing.
 */
export async function fetchLevelBlocks (store: BlockSource, cid: CID, options: FetchBlocksOptions = {}): Promise<FetchLevelResult> {
  const { signal, onProgress } = options
  const queue = new PQueue({ concurrency: options.concurrency ?? 128 })
  const result: FetchLevelResult = { images: 0, blocks: 0, bytes: 0, freshBlocks: 0, freshBytes: 0 }
  let failure: unknown
  // asked once, at the first block the store lacks: a complete local copy never asks
  let peersChecked: Promise<void> | undefined
  const take = async (block: NeededBlock, bytesIfFetched?: number): Promise<void> => {
    result.blocks++
    if (bytesIfFetched != null) {
      result.bytes += bytesIfFetched
      return
    }
    const had = await store.has(block.cid, { signal })
    if (had && block.size != null) {
      // already held (a rerun, or shared with another level): nothing to fetch or read
      result.bytes += block.size
      onProgress?.({ type: 'fetch:block', detail: { bytes: block.size, fresh: false } })
      return
    }
    if (!had) await (peersChecked ??= checkPeersHoldLevel(store, cid, options, { signal }))
    let bytes: Uint8Array
    try {
      bytes = await store.get(block.cid, { signal, sizeHint: block.size, notHeld: !had })
    } catch (err: any) {
      if (err instanceof MissingBlockError && block.level != null) {
        const { level, width, height } = block.level
        throw new MissingBlockError(`${block.name}: level ${level} (${width}x${height}) needs block ${block.cid}: ${err.message}`, { cause: err })
      }
      throw err
    }
    result.bytes += bytes.byteLength
    if (!had) { result.freshBlocks++; result.freshBytes += bytes.byteLength }
    onProgress?.({ type: 'fetch:block', detail: { bytes: bytes.byteLength, fresh: !had } })
  }
  const walk = await walkLevel(store, cid, async block => {
    if (failure != null) throw failure
    if (block.fetched) {
      // structural nodes were read by the walk itself
      result.blocks++
      return
    }
    void queue.add(async () => take(block)).catch(err => { failure ??= err })
    await queue.onSizeLessThan(queue.concurrency * 2)
  }, { ...options, concurrency: options.concurrency ?? 128, signal, levelFiles: options.levelFiles, decodableOnly: options.decodableOnly, onImage: plan => onProgress?.({ type: 'fetch:planned', detail: { bytes: plan.bytes } }) })
  await queue.onIdle()
  if (failure != null) throw failure
  result.images = walk.images
  return result
}
