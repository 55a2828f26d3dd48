/**
 * What a name record points to: a small dag-cbor block `{ mist: 'name', version: 1, name, root,
 * description? }`. The IPNS record's value is `/ipfs/<manifest CID>`, so the publisher's signature
 * covers the name as well as the root: a record cannot be replayed under another name.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { NameError, UsageError } from '../errors.js'
import type { Block } from '../types.js'

export interface NameManifest { name: string, root: CID, description?: string }

/** Bytes of a manifest block we accept (a name, a CID and a short description fit with room). */
export const MAX_MANIFEST_BYTES = 4096
export const MAX_DESCRIPTION = 1024
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** UsageError unless `name` is a dataset name: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit. */
export function checkName (name: string): string {
  if (!NAME.test(name)) throw new UsageError(`"${name}" is not a dataset name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`)
  return name
}

export async function encodeManifest (m: NameManifest): Promise<Block> {
  checkName(m.name)
  if (m.description != null && m.description.length > MAX_DESCRIPTION) throw new UsageError(`a description is at most ${MAX_DESCRIPTION} characters`)
  const node: Record<string, unknown> = { mist: 'name', version: 1, name: m.name, root: m.root }
  if (m.description != null && m.description !== '') node.description = m.description
  const bytes = dagCbor.encode(node)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

/** Decodes a manifest that must hash to `cid` (NameError otherwise). */
export async function decodeManifest (bytes: Uint8Array, cid: CID, where: string): Promise<NameManifest> {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new NameError(`${where}: the name manifest is ${bytes.byteLength} bytes (at most ${MAX_MANIFEST_BYTES})`)
  const digest = await sha256.digest(bytes)
  if (cid.code !== dagCbor.code || cid.multihash.code !== sha256.code || !equalBytes(digest.digest, cid.multihash.digest)) {
    throw new NameError(`${where}: the name manifest sent does not match the CID the signed record names (${cid})`)
  }
  let n: any
  try { n = dagCbor.decode(bytes) } catch (err: any) { throw new NameError(`${where}: the name manifest is not dag-cbor: ${err?.message ?? err}`) }
  const root = CID.asCID(n?.root)
  if (n?.mist !== 'name' || n.version !== 1 || typeof n.name !== 'string' || !NAME.test(n.name) || root == null ||
    (n.description != null && (typeof n.description !== 'string' || n.description.length > MAX_DESCRIPTION))) {
    throw new NameError(`${where}: the name manifest is malformed`)
  }
  return { name: n.name, root, ...(n.description != null ? { description: n.description } : {}) }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i])
}
