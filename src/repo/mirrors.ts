import { Key, type Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'

import type { LevelSelection } from '../types.js'

/** What a repo mirrors: a root and the levels it holds every block of (a level index, clamped per image, 'full', or a target size). */
export interface MirrorRecord extends LevelSelection { root: string, at: string }

const PREFIX = '/mist/mirror/'

/**
 * Records in the repo's datastore that `cid` is mirrored up to a level, so the mirror is
 * listed and kept (a partial mirror cannot be a Helia pin: a pin requires every block).
 */
export async function recordMirror (datastore: Datastore, cid: CID, selection: LevelSelection): Promise<void> {
  const record: MirrorRecord = { root: cid.toString(), ...selection, at: new Date().toISOString() }
  await datastore.put(new Key(PREFIX + cid.toString()), new TextEncoder().encode(JSON.stringify(record)))
}

export async function * listMirrors (datastore: Datastore): AsyncGenerator<MirrorRecord> {
  for await (const { value } of datastore.query({ prefix: PREFIX })) {
    yield JSON.parse(new TextDecoder().decode(value)) as MirrorRecord
  }
}
