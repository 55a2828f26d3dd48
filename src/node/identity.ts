/**
 * The node's persistent libp2p identity: an Ed25519 private key in `<repo>/identity.key`
 * (libp2p protobuf encoding, mode 0600). The PeerId derives from it, so it survives restarts.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { IdentityError } from '../errors.js'
import { checkSecretFileMode, writeSecretFile } from './secret-file.js'
import type { SecretFileReadOptions } from './secret-file.js'

export const IDENTITY_FILE = 'identity.key'

/** `<repo>/identity.key` */
export function identityPath (repoPath: string): string {
  return join(repoPath, IDENTITY_FILE)
}

async function readIdentity (file: string, options: SecretFileReadOptions): Promise<PrivateKey | undefined> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined
    throw new IdentityError(`${file}: cannot read the node identity: ${err?.code ?? err?.message ?? err}`, { cause: err })
  }
  await checkSecretFileMode(file, options, (message) => new IdentityError(message))
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err: any) {
    throw new IdentityError(`${file} is not a valid libp2p private key (protobuf). Move it away to create a new identity (peers that allow-list this node's PeerId must then be told the new one)`, { cause: err })
  }
}

/** Loads `<repo>/identity.key`, or creates it (Ed25519) on first use. */
export async function loadOrCreateIdentity (repoPath: string, options: SecretFileReadOptions = {}): Promise<PrivateKey> {
  const file = identityPath(repoPath)
  const existing = await readIdentity(file, options)
  if (existing != null) return existing
  const key = await generateKeyPair('Ed25519')
  try {
    await writeSecretFile(file, privateKeyToProtobuf(key), { exclusive: true })
  } catch (err: any) {
    if (err?.code === 'EEXIST') {
      // another process created it between our read and write: use theirs
      const theirs = await readIdentity(file, options)
      if (theirs != null) return theirs
    }
    throw new IdentityError(`${file}: cannot write the node identity: ${err?.code ?? err?.message ?? err}`, { cause: err })
  }
  return key
}

/** The PeerId string of a private key (offline; handy for allow-lists). */
export function peerIdOf (key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString()
}
