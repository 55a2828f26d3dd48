import { Key, type Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'

import type { LevelSelection } from '../types.js'

/** The levels a mirror holds every block of (a level index, clamped per image, 'full', or a target size), and of which entries (all when none is named). */
export interface MirrorSelection extends LevelSelection {
  path?: string
  include?: string[]
  exclude?: string[]
  /** The name (`<peer-id>/<name>`) whose versions this mirror follows (`mirror --follow`). */
  follow?: string
}

/** What a repo mirrors: a root and its selection. */
export interface MirrorRecord extends MirrorSelection { root: string, at: string }

const PREFIX = '/mist/mirror/'

/**
 * Records in the repo's datastore that `cid` is mirrored up to a level, so the mirror is
 * listed and kept (a partial mirror cannot be a Helia pin: a pin requires every block).
 */
export async function recordMirror (datastore: Datastore, cid: CID, selection: MirrorSelection): Promise<void> {
  const record: MirrorRecord = { root: cid.toString(), ...selection, at: new Date().toISOString() }
  await datastore.put(new Key(PREFIX + cid.toString()), new TextEncoder().encode(JSON.stringify(record)))
}

export async function * listMirrors (datastore: Datastore): AsyncGenerator<MirrorRecord> {
  for await (const { value } of datastore.query({ prefix: PREFIX })) {
    yield JSON.parse(new TextDecoder().decode(value)) as MirrorRecord
  }
}

/** Removes the mirror record of `cid`; whether there was one. */
export async function removeMirror (datastore: Datastore, cid: CID): Promise<boolean> {
  const key = new Key(PREFIX + cid.toString())
  if (!(await datastore.has(key))) return false
  await datastore.delete(key)
  return true
}
