/**
 * The private-network key (Kubo's `swarm.key`, "/key/swarm/psk/1.0.0/").
 * Nothing in this file ever puts key material into an error message or a log.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SwarmKeyError } from '../errors.js'
import { checkSecretFileMode, writeSecretFile } from './secret-file.js'
import type { SecretFileReadOptions } from './secret-file.js'

export const SWARM_KEY_FILE = 'swarm.key'
const HEADER = '/key/swarm/psk/1.0.0/'
const KEY_LENGTH = 32

/** `<repo>/swarm.key` */
export function swarmKeyPath (repoPath: string): string {
  return join(repoPath, SWARM_KEY_FILE)
}

function canonical (key: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`${HEADER}\n/base16/\n${Buffer.from(key).toString('hex')}\n`)
}

/** A new random 256-bit key in Kubo's format: "/key/swarm/psk/1.0.0/\n/base16/\n<64 hex>\n". */
export function generateSwarmKey (): string {
  return `${HEADER}\n/base16/\n${randomBytes(KEY_LENGTH).toString('hex')}\n`
}

/**
 * Validates a swarm key file's bytes (Kubo format, encodings /base16/, /base64/ or /bin/; LF or CRLF;
 * a trailing newline is fine) and returns it in the form @libp2p/pnet's `preSharedKey({ psk })`
 * accepts: "/key/swarm/psk/1.0.0/\n/base16/\n<64 lowercase hex>\n".
 * Errors name `source` and what is wrong, never the key.
 */
export function parseSwarmKey (bytes: Uint8Array, source = 'the swarm key'): Uint8Array {
  const bad = (what: string): SwarmKeyError => new SwarmKeyError(
    `${source} is not a valid swarm key: ${what}. Expected Kubo's format "${HEADER}" / "/base16/" / 64 hex digits (create one with \`mist-p2p init\`, or import the consortium's swarm.key with \`mist-p2p key import\`)`)
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes')
  if (bytes.byteLength === 0) throw bad('it is empty')
  if (bytes.byteLength > 4096) throw bad(`it is ${bytes.byteLength} bytes long, far more than a key`)
  // the two header lines are ASCII; split them off at the byte level (the /bin/ body is raw bytes)
  let offset = 0
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) offset = 3 // UTF-8 BOM
  const lines: string[] = []
  for (let i = 0; i < 2; i++) {
    const nl = bytes.indexOf(0x0a, offset)
    if (nl < 0) throw bad(i === 0 ? 'it has no line break after the header' : 'it has no encoding line')
    lines.push(Buffer.from(bytes.subarray(offset, nl)).toString('latin1').replace(/\r$/, ''))
    offset = nl + 1
  }
  const [header, encoding] = lines
  if (header.trim() !== HEADER) throw bad(`the first line is not "${HEADER}"`)
  const body = bytes.subarray(offset)
  let key: Uint8Array
  switch (encoding.trim()) {
    case '/base16/': {
      const text = Buffer.from(body).toString('latin1').replace(/\s+$/, '')
      if (/[\r\n]/.test(text)) throw bad('it has extra lines after the key')
      const hex = text.trim()
      if (!/^[0-9a-fA-F]*$/.test(hex)) throw bad('the key line holds characters that are not hexadecimal digits')
      if (hex.length !== KEY_LENGTH * 2) throw bad(`the key line has ${hex.length} hex digits instead of ${KEY_LENGTH * 2}`)
      key = Buffer.from(hex, 'hex')
      break
    }
    case '/base64/': {
      const text = Buffer.from(body).toString('latin1').replace(/\s+$/, '')
      if (/[\r\n]/.test(text)) throw bad('it has extra lines after the key')
      const b64 = text.trim()
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('the key line is not base64')
      key = Buffer.from(b64, 'base64')
      if (key.byteLength !== KEY_LENGTH) throw bad(`the key decodes to ${key.byteLength} bytes instead of ${KEY_LENGTH}`)
      break
    }
    case '/bin/': {
      if (body.byteLength < KEY_LENGTH) throw bad(`the binary key has ${body.byteLength} bytes instead of ${KEY_LENGTH}`)
      const rest = Buffer.from(body.subarray(KEY_LENGTH)).toString('latin1')
      if (rest.trim() !== '') throw bad(`the binary key has ${body.byteLength} bytes instead of ${KEY_LENGTH}`)
      key = body.slice(0, KEY_LENGTH)
      break
    }
    default:
      throw bad('the second line must be "/base16/" (or "/base64/", "/bin/")')
  }
  if (key.every(b => b === 0)) throw bad('the key is all zeros')
  return canonical(key)
}

export interface LoadSwarmKeyOptions extends SecretFileReadOptions {}

/**
 * Reads and validates `<repo>/swarm.key`. A missing key is a SwarmKeyError telling how to get one;
 * a key readable by group/others is refused (or only warned about with `allowInsecurePermissions`).
 */
export async function loadSwarmKey (repoPath: string, options: LoadSwarmKeyOptions = {}): Promise<Uint8Array> {
  const file = swarmKeyPath(repoPath)
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err: any) {
    if (err?.code === 'ENOENT') {
      throw new SwarmKeyError(`${file} does not exist: mist-p2p only runs in a private network and needs the consortium's swarm key. Run \`mist-p2p init\` to create a new network, or \`mist-p2p key import <file>\` to join an existing one`)
    }
    throw new SwarmKeyError(`${file}: cannot read the swarm key: ${err?.code ?? err?.message ?? err}`, { cause: err })
  }
  await checkSecretFileMode(file, options, (message) => new SwarmKeyError(message))
  return parseSwarmKey(bytes, file)
}

/** Validates `key` and writes it to `<repo>/swarm.key` atomically with mode 0600 (canonical /base16/ form). */
export async function writeSwarmKey (repoPath: string, key: string | Uint8Array): Promise<void> {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key
  const file = swarmKeyPath(repoPath)
  const psk = parseSwarmKey(bytes, typeof key === 'string' ? 'the given swarm key' : 'the given swarm key bytes')
  try {
    await writeSecretFile(file, psk)
  } catch (err: any) {
    throw new SwarmKeyError(`${file}: cannot write the swarm key: ${err?.code ?? err?.message ?? err}`, { cause: err })
  }
}
