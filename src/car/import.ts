import { createReadStream } from 'node:fs'
import { CarBlockIterator } from '@ipld/car'
import type { CID } from 'multiformats/cid'
import { InvalidInputError, MissingBlockError } from '../errors.js'
import { rootKind } from '../chunker/index.js'
import { verifyBlock, type BlockSource, type BlockStore } from '../repo/index.js'
import { walkLevel } from '../level/blocks.js'
import { readRoot } from '../level/roots.js'
import type { OperationOptions, ProgressEvent, AbortOptions } from '../types.js'

export interface ImportCarResult {
  /** The mist-p2p roots found (see `mistRoots`) and the finest level held of each. */
  roots: Array<{ root: string, level: number | 'full' | null }>
  /** The roots the CAR header declares. */
  carRoots: string[]
  blocks: number
  freshBlocks: number
  bytes: number
}

/**
 * Loads a CAR file into the store: every block is verified against its CID before it is
 * stored (a corrupt or forged block fails the import with the block named). Each root is
 * then pinned if complete, or recorded as a mirror of the finest level it holds entirely.
 */
export async function importCar (store: BlockStore, path: string, options: OperationOptions<ProgressEvent<'car:block', { bytes: number }>> = {}): Promise<ImportCarResult> {
  let iterator: CarBlockIterator
  try {
    iterator = await CarBlockIterator.fromIterable(createReadStream(path))
  } catch (err: any) {
    throw new InvalidInputError(`${path}: not a CAR file: ${err?.message ?? err}`, { cause: err })
  }
  const result: ImportCarResult = { roots: [], carRoots: [], blocks: 0, freshBlocks: 0, bytes: 0 }
  let first: { cid: CID, bytes: Uint8Array } | undefined
  try {
    for await (const block of iterator) {
      options.signal?.throwIfAborted()
      verifyBlock(block.cid as CID, block.bytes, `${path}: `)
      first ??= { cid: block.cid as CID, bytes: block.bytes }
      const fresh = await store.putBlocks([{ cid: block.cid as CID, bytes: block.bytes }], options)
      result.blocks++
      result.bytes += block.bytes.byteLength
      if (fresh > 0) result.freshBlocks++
      options.onProgress?.({ type: 'car:block', detail: { bytes: block.bytes.byteLength } })
    }
  } catch (err: any) {
    if (err?.name === 'BlockVerificationError' || options.signal?.aborted === true) throw err
    throw new InvalidInputError(`${path}: the CAR file is truncated or corrupt after ${result.blocks} blocks: ${err?.message ?? err}`, { cause: err })
  }
  const declared = (await iterator.getRoots()) as CID[]
  result.carRoots = declared.map(r => r.toString())
  for (const root of await mistRoots(store, declared, first)) {
    const level = await completeLevel(store, root, { signal: options.signal })
    if (level === 'full') await store.pin(root as CID, options)
    if (level != null) await store.recordMirror(root as CID, { level })
    result.roots.push({ root: root.toString(), level })
  }
  return result
}

/**
 * The mist-p2p roots of a CAR: the declared roots that are image, volume or dataset roots
 * (a full export, or `ipfs dag export <root>`); when none is (a level-k export declares
 * its level files), the first block, if it is such a root (exports write it first).
 */
async function mistRoots (store: BlockStore, declared: CID[], first: { cid: CID, bytes: Uint8Array } | undefined): Promise<CID[]> {
  const found: CID[] = []
  for (const root of declared) {
    if (root.code !== 0x71) continue
    // a declared dag-cbor root the CAR lacks is reported as incomplete, as before
    if (!(await store.has(root)) || isMistRoot(await store.get(root))) found.push(root)
  }
  if (found.length > 0) return found
  if (first != null && first.cid.code === 0x71 && isMistRoot(first.bytes)) return [first.cid]
  return []
}

function isMistRoot (bytes: Uint8Array): boolean {
  try {
    const kind = rootKind(bytes)
    return kind === 'image' || kind === 'volume' || kind === 'dataset'
  } catch {
    return false
  }
}

/** The finest level whose every block the store holds ('full' for all), or null. */
export async function completeLevel (store: BlockStore, cid: CID, options: AbortOptions = {}): Promise<number | 'full' | null> {
  const { signal } = options
  if (!(await store.has(cid))) return null
  const found = await readRoot(store, cid, { signal })
  const levels = found.root.levels.map(l => l.level)
  for (let i = levels.length - 1; i >= 0; i--) {
    try {
      await walkLevel(offline(store), cid, async block => {
        if (!(await store.has(block.cid))) throw new MissingBlockError(`missing ${block.cid}`)
      }, { level: levels[i], signal, levelFiles: true })
      return i === levels.length - 1 ? 'full' : levels[i]
    } catch (err) {
      if (!(err instanceof MissingBlockError)) throw err
    }
  }
  return null
}

/** Reads only what the store holds: a missing block is an immediate MissingBlockError (no network wait). */
function offline (store: BlockStore): BlockSource {
  return {
    get: async (cid, o) => {
      if (!(await store.has(cid, o))) throw new MissingBlockError(`block ${cid} is not in ${store.path}`)
      return store.get(cid, o)
    },
    has: async (cid, o) => store.has(cid, o)
  }
}
