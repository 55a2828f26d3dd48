import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RepoError } from '../errors.js'

/** `<repo>/config.json`: the repo's settings. */
export interface RepoConfig {
  version: number
  /** Multiaddrs (with /p2p/<id>) of consortium peers, dialed by serve, get and mirror. */
  peers?: string[]
  /** If present, only these peer IDs may connect. */
  allowPeers?: string[]
  /** Listen multiaddrs for serve when --listen is not given. */
  listen?: string[]
}

export async function readRepoConfig (repoPath: string): Promise<RepoConfig> {
  const file = join(repoPath, 'config.json')
  let parsed: any
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (err: any) {
    throw new RepoError(`${file}: ${err?.code === 'ENOENT' ? 'missing: not a mist-p2p repo' : `unreadable: ${err?.message ?? err}`}`, { cause: err })
  }
  const list = (key: string): string[] | undefined => {
    const v = parsed?.[key]
    if (v == null) return undefined
    if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new RepoError(`${file}: "${key}" must be a list of strings`)
    return v
  }
  return { version: parsed?.version, peers: list('peers'), allowPeers: list('allowPeers'), listen: list('listen') }
}
