import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { encodeManifest } from './manifest.js'
import { checkNameRecord, signNameRecord, type NameRecord } from './record.js'
import { putNameRecord, storedSequence } from './store.js'

export interface NamePublishOptions {
  /** How long the record is valid, ms (default 7 days); publish again before it ends. */
  lifetimeMs?: number
  /** A short description shown to members (at most 1024 characters). */
  description?: string
}

export const DEFAULT_LIFETIME_MS = 7 * 24 * 3600 * 1000

/**
 * `name publish`: points `<this node's peer ID>/<name>` at a root the repo holds, with the next
 * sequence number, signed by the node's identity key, stored so `serve` hands it to members.
 */
export async function publishName (repo: BlockSource, datastore: Datastore, key: PrivateKey, root: CID, name: string, options: NamePublishOptions = {}): Promise<NameRecord> {
  if (!(await repo.has(root))) throw new UsageError(`the repo does not hold ${root}: publish or mirror it before naming it`)
  const peer = peerIdFromPrivateKey(key).toString()
  const manifest = await encodeManifest({ name, root, description: options.description })
  const seq = (await storedSequence(datastore, peer, name) ?? 0n) + 1n
  const lifetime = options.lifetimeMs ?? DEFAULT_LIFETIME_MS
  if (!(lifetime > 0)) throw new UsageError('a name record\'s lifetime must be positive')
  const record = await signNameRecord(key, manifest.cid, seq, lifetime)
  const checked = await checkNameRecord(peer, name, record, manifest.bytes, 'this repo')
  await putNameRecord(datastore, checked, lifetime)
  return checked
}
