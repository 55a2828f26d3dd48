import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { RepoError } from '../errors.js'

export type BlockstoreKind = 'fs' | 'lmdb'
export const BLOCKSTORE_KINDS: readonly BlockstoreKind[] = ['fs', 'lmdb']

/** `<repo>/config.json`: the repo's settings. */
export interface RepoConfig {
  version: number
  /** Where blocks live: "lmdb" (one LMDB database, new repos) or "fs" (a file per block; repos made before "blockstore" was recorded). */
  blockstore?: BlockstoreKind
  /** Multiaddrs (with /p2p/<id>) of consortium peers, dialed by serve, get and mirror. */
  peers?: string[]
  /** If present, only these peer IDs may connect. */
  allowPeers?: string[]
  /** Listen multiaddrs for serve when --listen is not given. */
  listen?: string[]
  /** Short names for peer IDs in `<alias>/<name>` (e.g. "site-a": "12D3Koo…"). */
  aliases?: Record<string, string>
  /** Names `serve` keeps mirrored (`mirror --follow`), resumed whenever it starts. */
  follow?: Array<{ name: string, level?: number | 'full', size?: number, keep?: number, intervalSeconds?: number }>
  /** How often `serve` checks this node's own name records and signs again those with less than half their lifetime left (default 600). */
  nameRefreshSeconds?: number
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
  const follow = parsed?.follow
  const goodFollow = (f: any): boolean => typeof f?.name === 'string' &&
    (f.level == null || f.level === 'full' || (Number.isInteger(f.level) && f.level >= 0)) &&
    (f.size == null || (Number.isInteger(f.size) && f.size > 0)) &&
    (f.keep == null || (Number.isInteger(f.keep) && f.keep >= 1)) &&
    (f.intervalSeconds == null || (typeof f.intervalSeconds === 'number' && f.intervalSeconds >= 1))
  if (follow != null && (!Array.isArray(follow) || follow.length > 64 || !follow.every(goodFollow))) {
    throw new RepoError(`${file}: "follow" must list at most 64 entries like { "name": "site-a/chest", "level": 1, "keep": 1, "intervalSeconds": 300 }`)
  }
  const nameRefreshSeconds = parsed?.nameRefreshSeconds
  if (nameRefreshSeconds != null && !(typeof nameRefreshSeconds === 'number' && nameRefreshSeconds >= 1 && nameRefreshSeconds <= 86400)) {
    throw new RepoError(`${file}: "nameRefreshSeconds" must be a number of seconds from 1 to 86400`)
  }
  const blockstore = parsed?.blockstore
  if (blockstore != null && !BLOCKSTORE_KINDS.includes(blockstore)) {
    throw new RepoError(`${file}: "blockstore" is ${JSON.stringify(blockstore)}; this mist-p2p knows ${BLOCKSTORE_KINDS.map(k => `"${k}"`).join(' and ')} (a repo made by a newer mist-p2p needs that version)`)
  }
  return { version: parsed?.version, blockstore, peers: list('peers'), allowPeers: list('allowPeers'), listen: list('listen'), aliases, follow, nameRefreshSeconds }
}
