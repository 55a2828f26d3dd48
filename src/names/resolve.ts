/**
 * `<peer-id>/<name>` → the newest valid record: every connected member is asked at once (any node
 * holding a record may serve it: the signature proves who made it), each answer is checked, one older
 * than the newest this repo has seen is refused as a replay, and the newest accepted is stored (so it
 * is served on and a later replay of an older one is recognised).
 */
import type { Datastore } from 'interface-datastore'
import { NameError } from '../errors.js'
import type { AbortOptions } from '../types.js'
import { checkName } from './manifest.js'
import { checkNameRecord, publicKeyOfPeer, type NameRecord } from './record.js'
import { getNameRecord, putNameRecord, storedSequence } from './store.js'

export type AskNames = (key: string, options: AbortOptions) => Promise<Array<{ peer: string, answer?: { record: Uint8Array, manifest: Uint8Array }, error?: string }>>

export interface Resolved extends NameRecord {
  /** Where the record came from: 'this repo' or the peer ID that served it. */
  from: string
  /** Answers refused on the way (forged, replayed, expired, malformed), each with its reason. */
  refused: string[]
}

export async function resolveName (datastore: Datastore, peer: string, name: string, ask: AskNames | undefined, options: AbortOptions = {}): Promise<Resolved> {
  checkName(name)
  publicKeyOfPeer(peer)
  const seen = await storedSequence(datastore, peer, name)
  const held = await getNameRecord(datastore, peer, name)
  const refused: string[] = []
  let best: (NameRecord & { from: string }) | undefined
  let asked = 0
  for (const { peer: from, answer, error } of ask != null ? await ask(`${peer}/${name}`, options) : []) {
    asked++
    if (error != null) { refused.push(`${from}: ${error}`); continue }
    if (answer == null) continue
    try {
      const r = await checkNameRecord(peer, name, answer.record, answer.manifest, from)
      if (seen != null && r.seq < seen) throw new NameError(`${peer}/${name} from ${from}: refused, its sequence ${r.seq} is older than sequence ${seen} already seen (a replayed record)`)
      if (best == null || r.seq > best.seq || (r.seq === best.seq && r.validity > best.validity)) best = { ...r, from }
    } catch (err: any) {
      if (!(err instanceof NameError)) throw err
      refused.push(err.message)
    }
  }
  if (best != null && (held == null || best.seq > held.seq || (best.seq === held.seq && best.validity > held.validity))) {
    await putNameRecord(datastore, best)
    return { ...best, refused }
  }
  if (held != null) return { ...held, from: 'this repo', refused }
  const why = refused.length > 0 ? refused.join('; ') : asked === 0 ? 'this repo holds no record for it and no member is connected (give --peer, or run serve)' : `none of the ${asked} connected member(s) holds a record for it`
  throw new NameError(`cannot resolve ${peer}/${name}: ${why}`)
}
