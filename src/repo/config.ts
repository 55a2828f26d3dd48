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
  /** Short names for peer IDs in `<alias>/<name>` (e.g. "site-a": "12D3Koo…"). */
  aliases?: Record<string, string>
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
  const aliases = parsed?.aliases
  if (aliases != null && (typeof aliases !== 'object' || Array.isArray(aliases) || Object.values(aliases).some(v => typeof v !== 'string'))) {
    throw new RepoError(`${file}: "aliases" must map short names to peer IDs, e.g. { "site-a": "12D3Koo…" }`)
  }
  return { version: parsed?.version, peers: list('peers'), allowPeers: list('allowPeers'), listen: list('listen'), aliases }
}
