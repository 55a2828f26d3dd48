/**
 * Content-addressed blocks: CIDv1, sha2-256, raw / dag-cbor / dag-pb codecs.
 * Every block this module makes is checked against MAX_BLOCK_BYTES.
 */
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { FormatError } from '../errors.js'
import type { Block } from '../types.js'

/** No block may exceed 1 MiB (Kubo's expectation; bitswap's hard limit is 2 MiB). */
export const MAX_BLOCK_BYTES = 1 << 20

async function makeBlock (code: number, bytes: Uint8Array, what: string): Promise<Block> {
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new FormatError(`${what} block would be ${bytes.byteLength} bytes, over the ${MAX_BLOCK_BYTES}-byte limit`)
  }
  const hash = await sha256.digest(bytes)
  return { cid: CID.createV1(code, hash), bytes }
}

/** A raw-codec leaf over `bytes` (not copied). */
export async function rawBlock (bytes: Uint8Array): Promise<Block> {
  return await makeBlock(raw.code, bytes, 'raw')
}

/** A dag-cbor block of `value` (which must hold no undefined, NaN or -0: see meta.ts). */
export async function cborBlock (value: unknown, what = 'dag-cbor'): Promise<Block> {
  return await makeBlock(dagCbor.code, dagCbor.encode(value), what)
}

/** A dag-pb block of `node`. */
export async function pbBlock (node: dagPb.PBNode, what = 'dag-pb'): Promise<Block> {
  return await makeBlock(dagPb.code, dagPb.encode(dagPb.prepare(node)), what)
}

/** Collects blocks, each once (by CID), in insertion order. */
export class BlockSet {
  private readonly byCid = new Map<string, Block>()

  add (block: Block): Block {
    const key = block.cid.toString()
    if (!this.byCid.has(key)) this.byCid.set(key, block)
    return block
  }

  addAll (blocks: Iterable<Block>): void {
    for (const b of blocks) this.add(b)
  }

  get size (): number {
    return this.byCid.size
  }

  toArray (): Block[] {
    return [...this.byCid.values()]
  }
}
