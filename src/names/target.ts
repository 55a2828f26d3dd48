/**
 * What a command's `<cid>` argument may be: `<cid>[/<path>]`, or a name `<peer-id>/<name>[/<path>]`,
 * or `<alias>/<name>[/<path>]` with the alias mapped to a peer ID in the repo config (`aliases`).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.js'
import { checkName } from './manifest.js'

export type Target =
  | { cid: CID, path?: string }
  | { peer: string, name: string, path?: string }

export function parseTargetText (text: string, aliases: Record<string, string> = {}): Target {
  const parts = text.trim().replace(/\/+$/, '').split('/')
  const rest = (from: number): string | undefined => parts.length > from ? parts.slice(from).join('/') : undefined
  try {
    const cid = CID.parse(parts[0])
    return { cid, path: rest(1) }
  } catch {}
  let peer = aliases[parts[0]]
  if (peer == null) {
    try { peer = peerIdFromString(parts[0]).toString() } catch {
      throw new UsageError(`"${parts[0]}" is not a CID, a peer ID or an alias of the repo config; give the root CID that publish printed, or <peer-id>/<name>`)
    }
  }
  if (parts[1] == null || parts[1] === '') throw new UsageError(`"${text}" names a peer but no dataset: give <peer-id>/<name>`)
  return { peer, name: checkName(parts[1]), path: rest(2) }
}
