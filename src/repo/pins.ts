import { Key, type Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'

/** A root the repo keeps: recorded only after every block under it is stored. */
export interface PinRecord { root: string, at: string }

const PREFIX = '/mist/pin/'


/**
 * Pins as mist-p2p keeps them: one datastore record per root, written by whoever has just
 * stored (publish, import) or fetched and checked (mirror) every block under it, so a pinned
 * root never lacks blocks. Helia's own pins walk the whole DAG and write a record per block,
 * seconds for a dataset of a few thousand blocks (docs/DESIGN.md, "Measurements behind choices").
 * `gc` keeps every block under a pinned root (src/gc/).
 */
export async function addPin (datastore: Datastore, cid: CID): Promise<void> {
  const record: PinRecord = { root: cid.toString(), at: new Date().toISOString() }
  await datastore.put(new Key(PREFIX + cid.toString()), new TextEncoder().encode(JSON.stringify(record)))
}

export async function isPinned (datastore: Datastore, cid: CID): Promise<boolean> {
  return datastore.has(new Key(PREFIX + cid.toString()))
}

export async function * listPins (datastore: Datastore): AsyncGenerator<PinRecord> {
  for await (const { value } of datastore.query({ prefix: PREFIX })) {
    yield JSON.parse(new TextDecoder().decode(value)) as PinRecord
  }
}

/** Removes the pin of `cid`; whether there was one. */
export async function removePin (datastore: Datastore, cid: CID): Promise<boolean> {
  const key = new Key(PREFIX + cid.toString())
  if (!(await datastore.has(key))) return false
  await datastore.delete(key)
  return true
}
