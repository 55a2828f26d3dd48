/**
 * Name records a repo holds: its own (published here) and the newest it has accepted from others,
 * one datastore entry per `<peer>/<name>` (`/mist/names/<peer>/<name>`). Whatever is held is served
 * to members that ask; every entry is checked again when read (its validity may have ended).
 */
import { Key, type Datastore } from 'interface-datastore'
import { checkNameRecord, MAX_RECORD_BYTES, type NameRecord } from './record.js'
import { MAX_MANIFEST_BYTES } from './manifest.js'

const PREFIX = '/mist/names/'

/** `lifetimeMs`: what the publisher asked for (local only, not signed), so `serve` signs it again for as long (refresh.ts). */
interface Stored { record: string, manifest: string, lifetimeMs?: number }

const keyOf = (peer: string, name: string): Key => new Key(`${PREFIX}${peer}/${name}`)

export async function putNameRecord (datastore: Datastore, r: NameRecord, lifetimeMs?: number): Promise<void> {
  const value: Stored = { record: Buffer.from(r.record).toString('base64'), manifest: Buffer.from(r.manifest).toString('base64'), ...(lifetimeMs != null ? { lifetimeMs } : {}) }
  await datastore.put(keyOf(r.peer, r.name), new TextEncoder().encode(JSON.stringify(value)))
}

/** The stored record and manifest bytes of `peer/name`, unchecked (to serve or check). */
export async function getStoredName (datastore: Datastore, peer: string, name: string): Promise<{ record: Uint8Array, manifest: Uint8Array, lifetimeMs?: number } | undefined> {
  let bytes: Uint8Array
  try { bytes = await datastore.get(keyOf(peer, name)) } catch { return undefined }
  if (bytes.byteLength > 4 * (MAX_RECORD_BYTES + MAX_MANIFEST_BYTES)) return undefined
  try {
    const s = JSON.parse(new TextDecoder().decode(bytes)) as Stored
    const lifetimeMs = typeof s.lifetimeMs === 'number' && s.lifetimeMs > 0 ? s.lifetimeMs : undefined
    return { record: Buffer.from(s.record, 'base64'), manifest: Buffer.from(s.manifest, 'base64'), ...(lifetimeMs != null ? { lifetimeMs } : {}) }
  } catch {
    return undefined
  }
}

/** The stored record of `peer/name` checked as if just received, or undefined (none, or no longer valid). */
export async function getNameRecord (datastore: Datastore, peer: string, name: string): Promise<NameRecord | undefined> {
  const s = await getStoredName(datastore, peer, name)
  if (s == null) return undefined
  return await checkNameRecord(peer, name, s.record, s.manifest, 'this repo').catch(() => undefined)
}

/** The sequence number of the stored record of `peer/name`, valid or not (a replay must beat it). */
export async function storedSequence (datastore: Datastore, peer: string, name: string): Promise<bigint | undefined> {
  const s = await getStoredName(datastore, peer, name)
  if (s == null) return undefined
  try {
    const { unmarshalIPNSRecord } = await import('ipns')
    return unmarshalIPNSRecord(s.record).sequence
  } catch {
    return undefined
  }
}

/** Every `<peer>/<name>` the repo holds a record for. */
export async function * listNames (datastore: Datastore): AsyncGenerator<{ peer: string, name: string }> {
  for await (const key of datastore.queryKeys({ prefix: PREFIX })) {
    const [peer, name] = key.toString().slice(PREFIX.length).split('/')
    if (peer != null && name != null) yield { peer, name }
  }
}
