/**
 * A serving node keeps its own names alive: a record of this node with less than half its
 * lifetime left (or already expired) is signed again with the same root and description, the
 * next sequence number and the lifetime the publisher asked for, so members that ask never find
 * it expired while the publisher runs. Records of other nodes are never re-signed (we cannot).
 */
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Datastore } from 'interface-datastore'
import { unmarshalIPNSRecord } from 'ipns'
import { CID } from 'multiformats/cid'
import type { BlockSource } from '../repo/index.js'
import { decodeManifest } from './manifest.js'
import { DEFAULT_LIFETIME_MS, publishName } from './publish.js'
import type { NameRecord } from './record.js'
import { getStoredName, listNames } from './store.js'

export interface RefreshOptions {
  /** The time to compare validity with (ms since the epoch); default now. */
  now?: number
  /** A name that could not be signed again (its root gone, a corrupt stored record): said, the others go on. */
  onError?: (name: string, err: Error) => void
}

export async function refreshOwnNames (repo: BlockSource, datastore: Datastore, key: PrivateKey, options: RefreshOptions = {}): Promise<NameRecord[]> {
  const self = peerIdFromPrivateKey(key).toString()
  const now = options.now ?? Date.now()
  const refreshed: NameRecord[] = []
  for await (const { peer, name } of listNames(datastore)) {
    if (peer !== self) continue
    try {
      const stored = await getStoredName(datastore, peer, name)
      if (stored == null) continue
      const lifetimeMs = stored.lifetimeMs ?? DEFAULT_LIFETIME_MS
      const record = unmarshalIPNSRecord(stored.record)
      const left = Date.parse(record.validity) - now
      if (Number.isFinite(left) && left > lifetimeMs / 2) continue
      const manifestCid = CID.parse(/^\/ipfs\/([^/]+)$/.exec(record.value)?.[1] ?? '')
      const manifest = await decodeManifest(stored.manifest, manifestCid, `${peer}/${name} in this repo`)
      refreshed.push(await publishName(repo, datastore, key, manifest.root, name, { lifetimeMs, description: manifest.description }))
    } catch (err: any) {
      options.onError?.(name, err instanceof Error ? err : new Error(String(err)))
    }
  }
  return refreshed
}
