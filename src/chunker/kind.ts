/**
 * Sniff which mist node a dag-cbor block is, from its `mist` field, without
 * validating the rest (the matching decode* function does that).
 */
import * as dagCbor from '@ipld/dag-cbor'
import { FormatError } from '../errors.js'

/** Every node type of docs/FORMAT.md. */
export type NodeKind = 'image' | 'volume' | 'dataset' | 'index' | 'slices'

const KINDS: readonly string[] = ['image', 'volume', 'dataset', 'index', 'slices']

/** The `mist` field of a node; FormatError if `bytes` is not a mist node. */
export function rootKind (bytes: Uint8Array): NodeKind {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new FormatError(`not a mist-p2p node: not valid dag-cbor (${(err as Error).message})`, { cause: err })
  }
  const kind = (value != null && typeof value === 'object' && !Array.isArray(value)) ? (value as Record<string, unknown>).mist : undefined
  if (typeof kind !== 'string' || !KINDS.includes(kind)) throw new FormatError('not a mist-p2p node: no known `mist` field')
  return kind as NodeKind
}
