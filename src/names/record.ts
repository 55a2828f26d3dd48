/**
 * Name records in the IPNS record format (the `ipns` package): value `/ipfs/<manifest CID>`, a
 * sequence number, an end of validity, signed (signature V2) by the publishing node's Ed25519
 * identity key. A record is accepted only with the signature of the peer named in `<peer-id>/<name>`,
 * before its end of validity, and with the manifest that hashes to its value and names `name`.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createIPNSRecord, marshalIPNSRecord, unmarshalIPNSRecord } from 'ipns'
import { validate } from 'ipns/validator'
import { CID } from 'multiformats/cid'
import { NameError, UsageError } from '../errors.js'
import { decodeManifest, type NameManifest } from './manifest.js'

/** IPNS's own limit on a record. */
export const MAX_RECORD_BYTES = 10 * 1024

export interface NameRecord {
  peer: string
  name: string
  root: CID
  description?: string
  seq: bigint
  /** End of validity (ISO). */
  validity: string
  /** The signed record and the manifest, as served to others. */
  record: Uint8Array
  manifest: Uint8Array
}

export async function signNameRecord (key: PrivateKey, manifestCid: CID, seq: bigint, lifetimeMs: number): Promise<Uint8Array> {
  return marshalIPNSRecord(await createIPNSRecord(key, manifestCid, seq, lifetimeMs, { v1Compatible: false }))
}

/** The peer ID of `<peer-id>/<name>` as a public key (Ed25519 peer IDs embed it). */
export function publicKeyOfPeer (peer: string): NonNullable<ReturnType<typeof peerIdFromString>['publicKey']> {
  let id
  try { id = peerIdFromString(peer) } catch (err: any) { throw new UsageError(`"${peer}" is not a peer ID (${err?.message ?? err})`) }
  if (id.publicKey == null) throw new UsageError(`peer ID ${peer} does not embed its public key (mist-p2p nodes use Ed25519 identities)`)
  return id.publicKey
}

/** Checks a record served for `peer/name` and returns what it says (NameError when refused). */
export async function checkNameRecord (peer: string, name: string, record: Uint8Array, manifest: Uint8Array, from: string): Promise<NameRecord> {
  const where = `${peer}/${name} from ${from}`
  if (record.byteLength > MAX_RECORD_BYTES) throw new NameError(`${where}: the record is ${record.byteLength} bytes (IPNS allows ${MAX_RECORD_BYTES})`)
  try {
    await validate(publicKeyOfPeer(peer), record)
  } catch (err: any) {
    if (err?.name === 'SignatureVerificationError') throw new NameError(`${where}: refused, the record is not signed by ${peer} (forged, or signed by another key)`)
    if (err?.name === 'RecordExpiredError') throw new NameError(`${where}: refused, the record has expired (its validity ended; the publisher must publish the name again)`)
    throw new NameError(`${where}: refused, not a valid IPNS record (${err?.message ?? err})`)
  }
  const parsed = unmarshalIPNSRecord(record)
  const match = /^\/ipfs\/([^/]+)$/.exec(parsed.value)
  let manifestCid: CID
  try { manifestCid = CID.parse(match?.[1] ?? '') } catch { throw new NameError(`${where}: refused, the record's value ${JSON.stringify(parsed.value)} is not /ipfs/<manifest CID>`) }
  const m: NameManifest = await decodeManifest(manifest, manifestCid, where)
  if (m.name !== name) throw new NameError(`${where}: refused, the signed record is for the name "${m.name}", not "${name}"`)
  return { peer, name, root: m.root, description: m.description, seq: parsed.sequence, validity: parsed.validity, record, manifest }
}
